/**
 * `flotilla image sign --key KEY.pem IMAGE` and `flotilla image verify --key PUB.pem IMAGE`:
 * cosign-compatible key-based signatures, straight against the registry (no API server).
 *
 *   sign    key (PEM P-256) -> tag -> manifest digest -> simple-signing payload -> ECDSA P-256
 *           -> append a layer to IMAGE:sha256-<hex>.sig -> "signed HOST/PATH@DIGEST with key sha256:..."
 *   verify  public key -> tag -> digest -> signatures -> exit 0 "verified HOST/PATH@DIGEST: signed by key ..."
 *           or exit 1 "error: HOST/PATH@DIGEST has no signature by key ... (N signatures found)"
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { FlotillaError } from '../../api/errors.js';
import { formatReference, parseReference } from '../../agent/image/reference.js';
import { RegistryClient } from '../../agent/image/registry-client.js';
import {
  appendSignature, findSigner, imageName, keyFingerprint, parsePrivateKey, parsePublicKey, readSignatures, resolveDigest,
  signPayload, simpleSigningPayload,
} from '../../image-trust/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** An image that is not signed by the key given (exit 1). */
export class NotSignedError extends FlotillaError {
  override readonly code = 'NotSigned';
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--key ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Signs IMAGE's manifest digest with the key in `keyFile`; returns the line to print. */
export async function signImage(image: string, keyFile: string): Promise<string> {
  const key = parsePrivateKey(await readKeyFile(keyFile), keyFile);
  const ref = parseReference(image);
  const client = new RegistryClient(ref.registry);
  try {
    const digest = await resolveDigest(client, ref, formatReference(ref));
    const payload = simpleSigningPayload(imageName(ref), digest);
    const pinned = `${imageName(ref)}@${digest}`;
    const { tag, count } = await appendSignature(client, ref.repository, digest, payload, signPayload(key, payload), pinned);
    return `signed ${pinned} with key ${keyFingerprint(key)} (${imageName(ref)}:${tag} holds ${count} signature${count > 1 ? 's' : ''})`;
  } finally {
    client.stop();
  }
}

/** Verifies IMAGE against the public key in `keyFile`; returns the line to print or throws NotSignedError. */
export async function verifyImage(image: string, keyFile: string): Promise<string> {
  const key = parsePublicKey(await readKeyFile(keyFile), keyFile);
  const ref = parseReference(image);
  const client = new RegistryClient(ref.registry);
  try {
    const digest = await resolveDigest(client, ref, formatReference(ref));
    const pinned = `${imageName(ref)}@${digest}`;
    const signatures = await readSignatures(client, ref.repository, digest, pinned);
    const match = findSigner(signatures, digest, [{ id: keyFile, key }]);
    if (match === undefined) {
      const found = signatures.length === 0 ? 'no signatures found' : `${signatures.length} signature${signatures.length > 1 ? 's' : ''} found, none by this key`;
      throw new NotSignedError(`${pinned} has no signature by key ${keyFingerprint(key)} (${keyFile}): ${found}`);
    }
    return `verified ${pinned}: signed by key ${match.fingerprint} (${keyFile})`;
  } finally {
    client.stop();
  }
}

/** Registers `image sign` and `image verify`. */
export function registerImageCommands(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('sign and verify images (cosign-compatible key-based signatures)');
  image
    .command('sign')
    .description('sign IMAGE (its manifest digest) and push the signature to its registry')
    .argument('<image>', 'image reference, e.g. 127.0.0.1:5000/demo/web:1')
    .requiredOption('--key <file>', 'PEM ECDSA P-256 private key (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)')
    .action(async (ref: string, opts: { key: string }) => {
      ctx.io.out(`${await signImage(ref, opts.key)}\n`);
    });
  image
    .command('verify')
    .description('check that IMAGE has a signature by the public key; exit 1 with the reason if not')
    .argument('<image>', 'image reference')
    .requiredOption('--key <file>', 'PEM public key (BEGIN PUBLIC KEY)')
    .action(async (ref: string, opts: { key: string }) => {
      ctx.io.out(`${await verifyImage(ref, opts.key)}\n`);
    });
}
