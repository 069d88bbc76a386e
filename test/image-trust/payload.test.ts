/**
 * The signature format against cosign and openssl: the simple-signing payload is byte for byte
 * what cosign signs; a signature cosign made verifies (test vector: containers/image's
 * signature/fixtures, cosign.pub and dir-img-cosign-valid/signature-1); signatures made here
 * verify with `openssl dgst -verify` and signatures openssl makes verify here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  findSigner, parsePayload, parsePrivateKey, parsePublicKey, signatureTag, signPayload, simpleSigningPayload, verifyPayload,
} from '../../src/image-trust/index.js';
import { openssl as run, opensslKeyPair } from '../helpers/trust-keys.js';

const COSIGN_PUB = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0\nvRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==\n-----END PUBLIC KEY-----\n';
const COSIGN_PAYLOAD_B64 = 'eyJjcml0aWNhbCI6eyJpZGVudGl0eSI6eyJkb2NrZXItcmVmZXJlbmNlIjoiMTkyLjE2OC42NC4yOjUwMDAvY29zaWduLXNpZ25lZC1zaW5nbGUtc2FtcGxlIn0sImltYWdlIjp7ImRvY2tlci1tYW5pZmVzdC1kaWdlc3QiOiJzaGEyNTY6NjM0YThmMzViNWYxNmRjZjRhYWEwODIyYWRjMGIxOTY0YmI3ODZmY2ExMmY2ODMxZGU4ZGRjNDVlNTk4NmEwMCJ9LCJ0eXBlIjoiY29zaWduIGNvbnRhaW5lciBpbWFnZSBzaWduYXR1cmUifSwib3B0aW9uYWwiOm51bGx9';
const COSIGN_SIGNATURE = 'MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR';
const COSIGN_DIGEST = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';
const COSIGN_REPO = '192.168.64.2:5000/cosign-signed-single-sample';

const dir = mkdtempSync(path.join(tmpdir(), 'trust-payload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (...args: string[]): Buffer => run(dir, ...args);
const pair = opensslKeyPair(dir, 'k');
const priv = parsePrivateKey(pair.privatePem, 'k.pem');
const pub = parsePublicKey(pair.publicPem, 'k.pub');

void describe('cosign signature format', () => {
  void it('builds the payload cosign signs, byte for byte, and reads it back', () => {
    const cosign = Buffer.from(COSIGN_PAYLOAD_B64, 'base64');
    assert.deepEqual(simpleSigningPayload(COSIGN_REPO, COSIGN_DIGEST), cosign);
    assert.deepEqual(parsePayload(cosign), { dockerReference: COSIGN_REPO, digest: COSIGN_DIGEST });
    assert.equal(parsePayload(Buffer.from('{"critical":{"type":"other"}}')), undefined);
    assert.equal(parsePayload(Buffer.from('not json')), undefined);
  });

  void it('names the signature tag sha256-<hex>.sig', () => {
    assert.equal(signatureTag(COSIGN_DIGEST), 'sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig');
    assert.throws(() => signatureTag('sha512:abc'), /not a sha256 digest/);
  });

  void it('verifies a signature cosign made, for its digest only', () => {
    const key = parsePublicKey(COSIGN_PUB, 'cosign.pub');
    const payload = Buffer.from(COSIGN_PAYLOAD_B64, 'base64');
    assert.equal(verifyPayload(key, payload, COSIGN_SIGNATURE), true);
    const sigs = [{ payload, signature: COSIGN_SIGNATURE }];
    assert.equal(findSigner(sigs, COSIGN_DIGEST, [{ id: 'cosign', key }])?.key, 'cosign');
    assert.equal(findSigner(sigs, `sha256:${'0'.repeat(64)}`, [{ id: 'cosign', key }]), undefined, 'a payload for another digest does not count');
    assert.equal(findSigner(sigs, COSIGN_DIGEST, [{ id: 'mine', key: pub }]), undefined, 'another key does not verify it');
    const tampered = Buffer.from(payload.toString().replace('sample', 'sampl3'));
    assert.equal(verifyPayload(key, tampered, COSIGN_SIGNATURE), false);
  });

  void it('signs as openssl verifies (ECDSA P-256, SHA-256, DER), and verifies what openssl signs', () => {
    const payload = simpleSigningPayload('127.0.0.1:5000/demo/web', COSIGN_DIGEST);
    writeFileSync(path.join(dir, 'payload.json'), payload);
    writeFileSync(path.join(dir, 'sig.der'), Buffer.from(signPayload(priv, payload), 'base64'));
    assert.match(openssl('dgst', '-sha256', '-verify', 'k.pub', '-signature', 'sig.der', 'payload.json').toString(), /Verified OK/);
    const theirs = openssl('dgst', '-sha256', '-sign', 'k.pem', 'payload.json').toString('base64');
    assert.equal(verifyPayload(pub, payload, theirs), true);
    assert.equal(verifyPayload(pub, payload, ''), false);
    assert.equal(verifyPayload(pub, payload, 'bm90IGEgc2lnbmF0dXJl'), false);
  });
});
