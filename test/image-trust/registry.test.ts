/**
 * Signatures in a real registry (docker-registry on loopback): `image sign` appends layers to
 * the `.sig` manifest, the verifier finds them, and refuses what it must: no signature, another
 * key, a signature copied from another image, a registry not allowed, an image no rule covers;
 * an unreachable registry is an UnavailableError (the callers fail closed).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UnavailableError } from '../../src/api/errors.js';
import type { TrustPolicy } from '../../src/api/kinds.js';
import { RegistryClient } from '../../src/agent/image/registry-client.js';
import { signImage, verifyImage } from '../../src/cli/commands/image.js';
import { ImageTrustVerifier, readSignatures, RegistryClients, signatureTag, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from '../../src/image-trust/index.js';
import { buildBusyboxImage, pushImageIndex, type PushedImage } from '../helpers/images.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { opensslKeyPair, trustPolicy, type KeyPairFiles } from '../helpers/trust-keys.js';

const T = { timeout: 120_000 };


void describe('signatures in a registry', T, () => {
  let reg: TestRegistry;
  let dir: string;
  let key: KeyPairFiles;
  let other: KeyPairFiles;
  let signed: PushedImage;
  let unsigned: PushedImage;
  const clients = new RegistryClients({ timeoutMs: 5_000 });
  const verifier = new ImageTrustVerifier((r) => clients.get(r));
  const rule = (): TrustPolicy => trustPolicy('default', { enforce: true, rules: [{ images: `${reg.host}/demo/*`, keys: [key.publicPem] }] });

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'trust-reg-'));
    key = opensslKeyPair(dir, 'k');
    other = opensslKeyPair(dir, 'other');
    signed = await buildBusyboxImage(reg.host, 'demo/signed', '1');
    unsigned = await buildBusyboxImage(reg.host, 'demo/unsigned', '1', { env: { X: '1' } });
  });
  after(async () => {
    await clients.stop();
    await reg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  void it('sign pushes a cosign signature manifest; signing again appends a layer', T, async () => {
    const line = await signImage(signed.ref, key.privateFile);
    assert.match(line, new RegExp(`^signed ${reg.host}/demo/signed@${signed.digest} with key sha256:[0-9a-f]{16} \\(.*:${signatureTag(signed.digest)} holds 1 signature\\)$`));
    assert.match(await signImage(signed.ref, other.privateFile), /holds 2 signatures/);
    const client = new RegistryClient(reg.host);
    try {
      const m = await client.getManifest('demo/signed', signatureTag(signed.digest), 'sig');
      assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.ok(m.parsed.kind === 'manifest');
      assert.equal(m.parsed.manifest.layers.length, 2);
      for (const l of m.parsed.manifest.layers) {
        assert.equal(l.mediaType, SIMPLE_SIGNING_MEDIA_TYPE);
        assert.match(l.annotations?.[SIGNATURE_ANNOTATION] ?? '', /^[A-Za-z0-9+/]+=*$/);
      }
      const sigs = await readSignatures(client, 'demo/signed', signed.digest, 'sig');
      assert.equal(JSON.parse(sigs[0]?.payload.toString() ?? '{}').critical.image['docker-manifest-digest'], signed.digest);
    } finally {
      client.stop();
    }
  });

  void it('verify: by the signing key, by tag or digest; refused with the reason otherwise', T, async () => {
    assert.match(await verifyImage(signed.ref, key.publicFile), new RegExp(`^verified ${reg.host}/demo/signed@${signed.digest}: signed by key sha256:`));
    assert.match(await verifyImage(`${reg.host}/demo/signed@${signed.digest}`, other.publicFile), /^verified /);
    await assert.rejects(verifyImage(unsigned.ref, key.publicFile), /demo\/unsigned@sha256:[0-9a-f]{64} has no signature by key sha256:[0-9a-f]{16} \(.*k\.pub\): no signatures found/);
    await assert.rejects(verifyImage(signed.ref, key.privateFile), /expected a PEM public key/);
  });

  void it('the verifier: trusted, pinned to the digest; untrusted with policy and rule named', T, async () => {
    const ok = await verifier.verify(signed.ref, [rule()]);
    assert.equal(ok?.trusted, true);
    assert.equal(ok?.pinned, `${reg.host}/demo/signed@${signed.digest}`);
    assert.match(ok?.reason ?? '', /^signed by key sha256:[0-9a-f]{16} \(TrustPolicy default rules\[0\]\)$/);
    const no = await verifier.verify(unsigned.ref, [rule()]);
    assert.equal(no?.trusted, false);
    assert.equal(no?.enforce, true);
    assert.equal(no?.reason, `image ${unsigned.ref} has no signature by a trusted key (TrustPolicy default rules[0]: no signatures found)`);
    assert.equal(await verifier.verify(unsigned.ref, []), undefined, 'no policy, no verdict');
    const wrongKey = trustPolicy('p', { enforce: false, rules: [{ images: '**', keys: [other.publicPem] }] });
    const otherOnly = await buildBusyboxImage(reg.host, 'demo/one-key', '1', { env: { Y: '1' } });
    await signImage(otherOnly.ref, key.privateFile);
    assert.match((await verifier.verify(otherOnly.ref, [wrongKey]))?.reason ?? '', /has no signature by a trusted key \(TrustPolicy p rules\[0\]: 1 signature found, none by a key of TrustPolicy p rules\[0\]\)/);
  });

  void it('a multi-platform image: the index digest is what is signed and pinned', T, async () => {
    const index = await pushImageIndex(reg.host, 'demo/multi', '1');
    await signImage(index.ref, key.privateFile);
    const v = await verifier.verify(index.ref, [rule()]);
    assert.equal(v?.trusted, true, v?.reason);
    assert.equal(v?.pinned, `${reg.host}/demo/multi@${index.digest}`);
  });

  void it('a signature copied from another image does not count', T, async () => {
    const client = new RegistryClient(reg.host);
    try {
      const sig = await client.getManifest('demo/signed', signatureTag(signed.digest), 'sig');
      // Same repository, so the blobs are there: the .sig of `copy` now holds signed's payloads.
      const copy = await buildBusyboxImage(reg.host, 'demo/signed', 'copy', { env: { Z: '1' } });
      await client.putManifest('demo/signed', signatureTag(copy.digest), sig.body, sig.mediaType, 'copy');
      const v = await verifier.verify(copy.ref, [rule()]);
      assert.equal(v?.trusted, false);
      assert.match(v?.reason ?? '', /2 signatures found, none by a key/);
    } finally {
      client.stop();
    }
  });

  void it('registries allow-list and images no rule covers are refused before any registry request', T, async () => {
    const listed = trustPolicy('only-other', { enforce: true, registries: ['reg.example.com:5000'], rules: [{ images: '**', keys: [key.publicPem] }] });
    assert.equal((await verifier.verify(signed.ref, [listed]))?.reason, `image ${signed.ref} is from registry ${reg.host}, which TrustPolicy only-other does not allow (allowed: reg.example.com:5000)`);
    assert.equal((await verifier.verify('127.0.0.1:1/nothing/here:1', [rule()]))?.reason, 'image 127.0.0.1:1/nothing/here:1 matches no rule of TrustPolicy default: it cannot be trusted');
  });

  void it('an unreachable registry is UnavailableError naming the image', T, async () => {
    const port = await freePort();
    const p = trustPolicy('all', { enforce: true, rules: [{ images: '**', keys: [key.publicPem] }] });
    await assert.rejects(verifier.verify(`127.0.0.1:${port}/demo/x:1`, [p]), (e: unknown) => e instanceof UnavailableError && /cannot verify the signature of image 127\.0\.0\.1:\d+\/demo\/x:1: .*unreachable/.test(e.message));
  });
});
