/**
 * Manifest, index and image-config shapes (OCI image-spec 1.x and Docker v2 schema 2), the
 * media types a pull accepts, and platform selection in an index. Pure: no I/O.
 */
import { UnsupportedImageError } from './errors.js';

/** Media types this client understands. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Every manifest media type sent in `Accept` (an OCI manifest is 404 without it). */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest].join(', ');

/** A content descriptor: what a manifest says about a blob or a child manifest. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** OS and CPU a manifest in an index is built for. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An image manifest: one config blob and the layers, bottom first. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** An image index / manifest list: one manifest per platform. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** The part of the image config that decides how a container starts. */
export interface ContainerConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Volumes?: Record<string, object> | null;
}

/** The image config blob (`application/vnd.oci.image.config.v1+json`). */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: ContainerConfig;
  rootfs?: { type: string; diff_ids: string[] };
}

const PLATFORM_DEFAULT: Platform = { os: 'linux', architecture: 'amd64' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  if (!isObject(d) || typeof d.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string') {
    throw new UnsupportedImageError(`${where}: descriptor needs mediaType, digest and size`);
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw new UnsupportedImageError(`${where}: unsupported digest ${d.digest}`);
  return d as unknown as Descriptor;
}

/** A parsed manifest body: either an image manifest or an index. */
export type ParsedManifest = { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex };

/**
 * Parses a manifest body, using the Content-Type when the body lacks `mediaType` (it is
 * optional in OCI). Rejects schema 1 and anything unknown with a clear error.
 */
export function parseManifest(body: Buffer, contentType: string | undefined, what: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UnsupportedImageError(`${what}: manifest is not JSON`);
  }
  if (!isObject(json)) throw new UnsupportedImageError(`${what}: manifest is not a JSON object`);
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const type = declared ?? contentType?.split(';')[0]?.trim() ?? '';
  if (type === MediaType.dockerSchema1 || type === MediaType.dockerSchema1Signed || json.schemaVersion === 1) {
    throw new UnsupportedImageError(`${what}: Docker schema 1 manifests are not supported; push the image again with a current client`);
  }
  if (type === MediaType.ociIndex || type === MediaType.dockerList || (declared === undefined && Array.isArray(json.manifests))) {
    if (!Array.isArray(json.manifests)) throw new UnsupportedImageError(`${what}: index without manifests`);
    const manifests = json.manifests.map((m, i) => checkDescriptor(m, `${what} manifests[${i}]`));
    return { kind: 'index', index: { schemaVersion: 2, mediaType: type || MediaType.ociIndex, manifests } };
  }
  if (type === MediaType.ociManifest || type === MediaType.dockerManifest || (declared === undefined && isObject(json.config))) {
    if (!Array.isArray(json.layers)) throw new UnsupportedImageError(`${what}: manifest without layers`);
    const config = checkDescriptor(json.config, `${what} config`);
    const layers = json.layers.map((l, i) => checkDescriptor(l, `${what} layers[${i}]`));
    return { kind: 'manifest', manifest: { schemaVersion: 2, mediaType: type || MediaType.ociManifest, config, layers } };
  }
  throw new UnsupportedImageError(`${what}: unsupported manifest media type ${JSON.stringify(type)}`);
}

/**
 * Picks the manifest for a platform (default linux/amd64) from an index. Exact os and
 * architecture must match; among several, one without a variant or with the wanted variant
 * wins. Attestation entries (`unknown/unknown`) never match.
 */
export function selectPlatform(index: ImageIndex, what: string, want: Platform = PLATFORM_DEFAULT): Descriptor {
  const candidates = index.manifests.filter((m) => m.platform?.os === want.os && m.platform?.architecture === want.architecture);
  const exact = candidates.find((m) => (m.platform?.variant ?? '') === (want.variant ?? ''));
  const chosen = exact ?? candidates[0];
  if (chosen === undefined) {
    const have = index.manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : '?')).join(', ');
    throw new UnsupportedImageError(`${what}: no manifest for ${want.os}/${want.architecture} in the index (has: ${have || 'none'})`);
  }
  return chosen;
}

/** Parses the image config blob; only the fields the agent uses are typed. */
export function parseImageConfig(body: Buffer, what: string): ImageConfig {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    if (!isObject(json)) throw new Error('not an object');
    return json as ImageConfig;
  } catch (err) {
    throw new UnsupportedImageError(`${what}: image config is not valid JSON: ${(err as Error).message}`);
  }
}

/** Layer compression, from the media type; `null` when this client cannot unpack it. */
export function layerCompression(mediaType: string): 'gzip' | 'none' | null {
  switch (mediaType) {
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayerGzip:
      return 'gzip';
    case MediaType.ociLayerTar:
      return 'none';
    default:
      return null;
  }
}
