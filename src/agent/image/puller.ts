/**
 * ImagePuller: the one entry point the agent uses to get an image onto the node. Resolves a
 * reference to a manifest (choosing linux/amd64 in an index), fetches the config and the
 * layers through the LayerStore (verified, single-flight, unpacked once), records the image,
 * and answers a repeated pull from the store after one HEAD of the manifest (none at all for
 * a digest reference). Errors are typed: NotFoundError, UnauthorizedError, DigestMismatchError,
 * and UnavailableError, which is retryable: backing off is the caller's job.
 */
import type { RegistryCredentials } from './auth.js';
import { UnsupportedImageError } from './errors.js';
import { LayerStore, type GcResult, type ImageRecord, type LayerRecord } from './layer-store.js';
import { parseImageConfig, selectPlatform, type ContainerConfig, type Descriptor, type ImageConfig, type ImageManifest, type Platform } from './manifest.js';
import { ProgressTracker, type PullProgress } from './progress.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { RegistryClient, type RegistryClientOptions } from './registry-client.js';
import { prepareRootfs, type PreparedRootfs, type PrepareRootfsOptions } from './rootfs.js';

/** Per-pull options: credentials and CA for this registry, and a progress callback. */
export interface PullOptions {
  auth?: RegistryCredentials;
  /** PEM of a CA to trust for this registry's HTTPS. */
  ca?: string;
  /** Force 'http' or 'https'; default HTTPS with HTTP fallback for loopback/insecure hosts. */
  scheme?: 'http' | 'https';
  onProgress?: (p: PullProgress) => void;
  /** Platform to pick in an index (default linux/amd64). */
  platform?: Platform;
}

/** What a pull gives the task runner. */
export interface PulledImage {
  reference: string;
  /** What the reference resolved to (index digest for multi-platform images). */
  digest: string;
  manifestDigest: string;
  /** The process settings: Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, ... */
  config: ContainerConfig;
  imageConfig: ImageConfig;
  /** Bottom first. */
  layers: LayerRecord[];
  /** True when no blob had to be fetched. */
  cached: boolean;
}

/** Agent-wide settings of the puller. */
export interface ImagePullerOptions {
  dataDir: string;
  log?: (line: string) => void;
  timeoutMs?: number;
  insecureRegistries?: string[];
  /** Layers fetched at once per pull (default 3). */
  layerConcurrency?: number;
}

/** Pulls images into a LayerStore and prepares root filesystems from them. */
export class ImagePuller {
  readonly store: LayerStore;
  private readonly clients = new Map<string, RegistryClient>();
  private readyP: Promise<void> | undefined;

  constructor(private readonly opts: ImagePullerOptions) {
    this.store = new LayerStore(opts.dataDir);
  }

  /** Pulls `reference` (e.g. `127.0.0.1:5000/demo/app:1`), or answers it from the store. */
  async pull(reference: string, opts: PullOptions = {}): Promise<PulledImage> {
    await this.ready();
    const ref = parseReference(reference);
    const what = formatReference(ref.digest !== undefined ? { ...ref, tag: undefined } : ref);
    if (ref.digest !== undefined) {
      const rec = await this.store.getImage(ref.digest);
      if (rec !== undefined) return toPulled(rec, true);
    }
    const client = this.client(ref.registry, opts);
    if (ref.digest === undefined) {
      const top = await client.headManifest(ref.repository, ref.tag ?? 'latest', what);
      const rec = top !== undefined ? await this.store.getImage(top) : undefined;
      if (rec !== undefined) return toPulled(rec, true);
    }
    return this.fetchImage(client, ref, what, opts);
  }

  private async fetchImage(client: RegistryClient, ref: ImageReference, what: string, opts: PullOptions): Promise<PulledImage> {
    const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest', what);
    let manifest: ImageManifest;
    let manifestDigest = top.digest;
    if (top.parsed.kind === 'index') {
      const desc = selectPlatform(top.parsed.index, what, opts.platform);
      const child = await client.getManifest(ref.repository, desc.digest, `${what} (${desc.platform?.os}/${desc.platform?.architecture})`);
      if (child.parsed.kind !== 'manifest') throw new UnsupportedImageError(`${what}: nested index ${desc.digest}`);
      manifest = child.parsed.manifest;
      manifestDigest = child.digest;
    } else {
      manifest = top.parsed.manifest;
    }
    const known = await this.store.getImage(manifestDigest);
    if (known !== undefined) {
      const rec = { ...known, digest: top.digest, reference: what };
      await this.store.putImage(rec);
      return toPulled(rec, true);
    }
    const release = this.store.pin([top.digest, manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
    try {
      const configBody = await client.getBlob(ref.repository, manifest.config, what);
      await this.store.putBlob(manifest.config.digest, configBody);
      const imageConfig = parseImageConfig(configBody, what);
      const diffIds = imageConfig.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) {
        throw new UnsupportedImageError(`${what}: config lists ${diffIds.length} diff IDs for ${manifest.layers.length} layers`);
      }
      const layers = await this.fetchLayers(client, ref, what, manifest.layers, diffIds, opts.onProgress);
      const rec: ImageRecord = {
        reference: what, digest: top.digest, manifestDigest, mediaType: manifest.mediaType,
        configDigest: manifest.config.digest, config: imageConfig, layers, pulledAt: new Date().toISOString(),
      };
      await this.store.putImage(rec);
      return toPulled(rec, false);
    } finally {
      release();
    }
  }

  private async fetchLayers(
    client: RegistryClient, ref: ImageReference, what: string, descs: Descriptor[], diffIds: string[],
    onProgress: ((p: PullProgress) => void) | undefined,
  ): Promise<LayerRecord[]> {
    const progress = new ProgressTracker(what, descs, onProgress);
    return mapLimit(descs, this.opts.layerConcurrency ?? 3, async (desc, i) => {
      const rec = await this.store.ensureLayer(desc, diffIds[i], (tmp) =>
        client.downloadBlob(ref.repository, desc, tmp, (n) => progress.bytes(i, n)),
      );
      progress.done(i);
      return rec;
    });
  }

  /** Creates the store's directories once (every pull does it first); the image collector calls it too. */
  ready(): Promise<void> {
    return (this.readyP ??= this.store.init());
  }

  /** The stored image under a digest (index or manifest), without touching the network. */
  async get(digest: string): Promise<PulledImage | undefined> {
    await this.ready();
    const rec = await this.store.getImage(digest);
    return rec !== undefined ? toPulled(rec, true) : undefined;
  }

  /** Builds a task's rootfs in `dir` from a pulled image (overlay, or a copy as fallback). */
  prepareRootfs(image: { layers: LayerRecord[] }, dir: string, opts: PrepareRootfsOptions = {}): Promise<PreparedRootfs> {
    return prepareRootfs(image, dir, { log: this.opts.log, ...opts });
  }

  /** Removes images whose digest is not in `inUse`, and the layers and blobs only they used. */
  async gc(inUse: Set<string>): Promise<GcResult> {
    await this.ready();
    return this.store.gc(inUse);
  }

  /** The client for a registry with these credentials (shared: its tokens and connections). */
  client(registry: string, opts: PullOptions = {}): RegistryClient {
    const key = JSON.stringify([registry, opts.auth?.username, opts.auth?.password, opts.ca, opts.scheme]);
    let c = this.clients.get(key);
    if (c === undefined) {
      const copts: RegistryClientOptions = {
        auth: opts.auth, ca: opts.ca, scheme: opts.scheme, timeoutMs: this.opts.timeoutMs, insecureRegistries: this.opts.insecureRegistries,
      };
      c = new RegistryClient(registry, copts);
      this.clients.set(key, c);
    }
    return c;
  }

  /** Closes registry connections. Pulls in flight finish or fail on their own. */
  stop(): Promise<void> {
    for (const c of this.clients.values()) c.stop();
    this.clients.clear();
    return Promise.resolve();
  }
}

function toPulled(rec: ImageRecord, cached: boolean): PulledImage {
  return {
    reference: rec.reference, digest: rec.digest, manifestDigest: rec.manifestDigest,
    config: rec.config.config ?? {}, imageConfig: rec.config, layers: rec.layers, cached,
  };
}

async function mapLimit<T, R>(items: T[], limit: number, f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await f(items[i] as T, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
