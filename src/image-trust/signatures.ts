/**
 * Signatures in the registry, the way cosign stores them: an OCI manifest tagged
 * `sha256-<hex>.sig` in the image's repository, one layer per signature (the payload blob,
 * media type simplesigning, the base64 signature in the layer annotation). Reading lists them;
 * appending re-pushes that manifest with one more layer (an identical signature is not added twice).
 */
import { NotFoundError } from '../api/errors.js';
import { MediaType, type Descriptor } from '../agent/image/manifest.js';
import type { RegistryClient } from '../agent/image/registry-client.js';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, signatureTag } from './payload.js';

/** One signature found in the registry. */
export interface StoredSignature {
  payload: Buffer;
  /** Base64 ASN.1 DER ECDSA signature. */
  signature: string;
}

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

/** The signature layers under the `.sig` tag of `digest` ([] when there is no such tag). */
async function signatureLayers(client: RegistryClient, repo: string, digest: string, what: string): Promise<Descriptor[]> {
  try {
    const m = await client.getManifest(repo, signatureTag(digest), `${what} signatures`);
    return m.parsed.kind === 'manifest' ? m.parsed.manifest.layers : [];
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/** Reads every signature of `repo@digest` (payload blobs are fetched and checked against their digests). */
export async function readSignatures(client: RegistryClient, repo: string, digest: string, what: string): Promise<StoredSignature[]> {
  const layers = (await signatureLayers(client, repo, digest, what))
    .filter((l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && l.annotations?.[SIGNATURE_ANNOTATION] !== undefined);
  // Payload blobs are small: fetched at once (a signature manifest rarely has more than a few).
  return Promise.all(layers.map(async (layer) => ({
    payload: await client.getBlob(repo, layer, `${what} signature payload`),
    signature: layer.annotations?.[SIGNATURE_ANNOTATION] as string,
  })));
}

/**
 * Adds one signature to `repo@digest`'s signature manifest (creating it if needed) and
 * pushes it; returns the tag and how many signatures it now holds.
 */
export async function appendSignature(client: RegistryClient, repo: string, digest: string, payload: Buffer, signature: string, what: string): Promise<{ tag: string; count: number }> {
  const tag = signatureTag(digest);
  const layers = await signatureLayers(client, repo, digest, what);
  const payloadDigest = await client.putBlob(repo, payload, `${what} signature payload`);
  const exists = layers.some((l) => l.digest === payloadDigest && l.annotations?.[SIGNATURE_ANNOTATION] === signature);
  const all: Descriptor[] = exists ? layers : [...layers, {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE, size: payload.length, digest: payloadDigest, annotations: { [SIGNATURE_ANNOTATION]: signature },
  }];
  // An image config as go-containerregistry's empty image has it: one diff ID per (uncompressed) layer.
  const config = Buffer.from(JSON.stringify({
    architecture: '', created: '0001-01-01T00:00:00Z', history: all.map(() => ({ created: '0001-01-01T00:00:00Z' })),
    os: '', rootfs: { type: 'layers', diff_ids: all.map((l) => l.digest) }, config: {},
  }));
  const configDigest = await client.putBlob(repo, config, `${what} signature config`);
  const manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: OCI_CONFIG, size: config.length, digest: configDigest },
    layers: all,
  };
  await client.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest, `${what} signatures`);
  return { tag, count: all.length };
}
