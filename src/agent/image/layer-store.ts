/**
 * The agent's content-addressed image store, under one data dir:
 *
 *   blobs/sha256/<hex>          compressed layer and config blobs, verified before rename
 *   layers/<hex>/fs/            a layer unpacked once (overlay form), keyed by its blob digest
 *   layers/<hex>/layer.json     its LayerRecord (diff ID, whiteouts, opaque dirs)
 *   images/<hex>.json           an ImageRecord, under the manifest digest and the index digest
 *   tmp/                        downloads and unpacks in progress (renamed into place)
 *
 * Work on the same digest is single-flight: concurrent pulls of one layer share one download
 * and one unpack. `gc(inUse)` drops images not in use and every blob and layer no remaining
 * image references.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DigestMismatchError, UnsupportedImageError } from './errors.js';
import { layerCompression, type Descriptor, type ImageConfig } from './manifest.js';
import { unpackLayer } from './unpack.js';

/** One unpacked layer, as stored in layers/<hex>/layer.json. */
export interface LayerRecord {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
  /** Absolute path of the unpacked tree (an overlay lowerdir). */
  dir: string;
  whiteouts: string[];
  opaques: string[];
  /** Whiteouts and opaque dirs exist in overlay form; false means the copy fallback. */
  overlayReady: boolean;
}

/** A pulled image: what a task needs to build its rootfs and its process. */
export interface ImageRecord {
  /** The reference it was last pulled by. */
  reference: string;
  /** Digest the reference resolved to (the index digest for a multi-platform image). */
  digest: string;
  /** Digest of the platform's image manifest (equals `digest` without an index). */
  manifestDigest: string;
  mediaType: string;
  configDigest: string;
  config: ImageConfig;
  /** Bottom layer first. */
  layers: LayerRecord[];
  pulledAt: string;
}

/** Counts of what a gc removed. */
export interface GcResult {
  images: number;
  layers: number;
  blobs: number;
}

function hexOf(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (m?.[1] === undefined) throw new UnsupportedImageError(`unsupported digest ${digest}`);
  return m[1];
}

/** Content-addressed blobs, unpacked layers and image records under `dataDir`. */
export class LayerStore {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly pins = new Map<string, number>();

  constructor(readonly dataDir: string) {}

  /** Creates the directories; call once before use. */
  async init(): Promise<void> {
    for (const d of ['blobs/sha256', 'layers', 'images', 'tmp']) await mkdir(path.join(this.dataDir, d), { recursive: true });
    await rm(path.join(this.dataDir, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(this.dataDir, 'tmp'), { recursive: true });
  }

  /** Where a blob lives once verified. */
  blobPath(digest: string): string {
    return path.join(this.dataDir, 'blobs/sha256', hexOf(digest));
  }

  private layerDir(digest: string): string {
    return path.join(this.dataDir, 'layers', hexOf(digest));
  }

  private tmpPath(prefix: string): string {
    return path.join(this.dataDir, 'tmp', `${prefix}-${randomBytes(6).toString('hex')}`);
  }

  /** Keeps digests safe from gc while a pull uses them; returns the release function. */
  pin(digests: string[]): () => void {
    for (const d of digests) this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
    return () => {
      for (const d of digests) {
        const n = (this.pins.get(d) ?? 1) - 1;
        if (n <= 0) this.pins.delete(d);
        else this.pins.set(d, n);
      }
    };
  }

  private singleFlight<T>(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    const p = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Returns the path of a verified blob, calling `download(tmpFile)` once if it is missing.
   * `download` must write and verify the file (RegistryClient.downloadBlob does).
   */
  ensureBlob(digest: string, download: (tmpFile: string) => Promise<void>): Promise<string> {
    const final = this.blobPath(digest);
    return this.singleFlight(`blob:${digest}`, async () => {
      if (await exists(final)) return final;
      const tmp = this.tmpPath('blob');
      try {
        await download(tmp);
        await rename(tmp, final);
      } finally {
        await rm(tmp, { force: true });
      }
      return final;
    });
  }

  /** Writes a small verified blob (the config). */
  async putBlob(digest: string, data: Buffer): Promise<void> {
    const final = this.blobPath(digest);
    if (await exists(final)) return;
    const tmp = this.tmpPath('blob');
    await writeFile(tmp, data);
    await rename(tmp, final);
  }

  /** The stored record of an unpacked layer, if complete. */
  async getLayer(digest: string): Promise<LayerRecord | undefined> {
    return readJson<LayerRecord>(path.join(this.layerDir(digest), 'layer.json'));
  }

  /**
   * Returns the unpacked layer, downloading (via ensureBlob) and unpacking it once. Checks
   * the diff ID against the config's when one is given: a mismatch discards the layer.
   */
  ensureLayer(desc: Descriptor, expectedDiffId: string | undefined, download: (tmpFile: string) => Promise<void>): Promise<LayerRecord> {
    return this.singleFlight(`layer:${desc.digest}`, async () => {
      const have = await this.getLayer(desc.digest);
      if (have !== undefined) return have;
      const compression = layerCompression(desc.mediaType);
      if (compression === null) throw new UnsupportedImageError(`layer ${desc.digest}: unsupported media type ${desc.mediaType}`);
      const blob = await this.ensureBlob(desc.digest, download);
      const tmp = this.tmpPath('layer');
      try {
        await mkdir(path.join(tmp, 'fs'), { recursive: true });
        const res = await unpackLayer(blob, compression, path.join(tmp, 'fs'));
        if (expectedDiffId !== undefined && res.diffId !== expectedDiffId) {
          await rm(blob, { force: true });
          throw new DigestMismatchError(expectedDiffId, res.diffId, `uncompressed layer ${desc.digest} (diff ID)`);
        }
        const final = this.layerDir(desc.digest);
        const rec: LayerRecord = {
          digest: desc.digest, mediaType: desc.mediaType, size: desc.size, diffId: res.diffId,
          dir: path.join(final, 'fs'), whiteouts: res.whiteouts, opaques: res.opaques, overlayReady: res.overlayReady,
        };
        await writeFile(path.join(tmp, 'layer.json'), JSON.stringify(rec));
        await rename(tmp, final);
        return rec;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }

  /** Saves an image record under each of `digests` (manifest digest, index digest). */
  async putImage(rec: ImageRecord): Promise<void> {
    for (const d of new Set([rec.digest, rec.manifestDigest])) {
      const tmp = this.tmpPath('image');
      await writeFile(tmp, JSON.stringify(rec, null, 1));
      await rename(tmp, path.join(this.dataDir, 'images', `${hexOf(d)}.json`));
    }
  }

  /** The image record stored under a digest, when all its layers are still present. */
  async getImage(digest: string): Promise<ImageRecord | undefined> {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
    const rec = await readJson<ImageRecord>(path.join(this.dataDir, 'images', `${hexOf(digest)}.json`));
    if (rec === undefined) return undefined;
    for (const l of rec.layers) if (!(await exists(path.join(this.layerDir(l.digest), 'layer.json')))) return undefined;
    return rec;
  }

  /** Every stored image record (once per file: an image pulled through an index has two). */
  async listImages(): Promise<ImageRecord[]> {
    const dir = path.join(this.dataDir, 'images');
    const out: ImageRecord[] = [];
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const rec = await readJson<ImageRecord>(path.join(dir, f));
      if (rec !== undefined) out.push(rec);
    }
    return out;
  }

  /** The layer digest of a path under layers/ (an overlay lowerdir), or undefined. */
  layerOfPath(p: string): string | undefined {
    const rel = path.relative(path.join(this.dataDir, 'layers'), p);
    const hex = rel.split(path.sep)[0] ?? '';
    return !rel.startsWith('..') && /^[a-f0-9]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
  }

  /**
   * Removes image records whose digest (or manifest digest) is not in `inUse`, then every
   * layer and blob no remaining record references, except those pinned by pulls in flight
   * and the layers in `keepLayers` (digests: what mounted root filesystems use).
   */
  gc(inUse: Set<string>, keepLayers: Iterable<string> = []): Promise<GcResult> {
    return this.singleFlight('gc', async () => {
      const out: GcResult = { images: 0, layers: 0, blobs: 0 };
      const keep = new Set<string>([...this.pins.keys(), ...keepLayers]);
      const imagesDir = path.join(this.dataDir, 'images');
      for (const f of await readdir(imagesDir)) {
        const rec = await readJson<ImageRecord>(path.join(imagesDir, f));
        if (rec === undefined) continue;
        if (inUse.has(rec.digest) || inUse.has(rec.manifestDigest) || this.pins.has(rec.digest)) {
          for (const d of [rec.configDigest, ...rec.layers.map((l) => l.digest)]) keep.add(d);
        } else {
          await rm(path.join(imagesDir, f), { force: true });
          out.images++;
        }
      }
      for (const hex of await readdir(path.join(this.dataDir, 'layers'))) {
        if (keep.has(`sha256:${hex}`)) continue;
        await rm(path.join(this.dataDir, 'layers', hex), { recursive: true, force: true });
        out.layers++;
      }
      for (const hex of await readdir(path.join(this.dataDir, 'blobs/sha256'))) {
        if (keep.has(`sha256:${hex}`)) continue;
        await rm(path.join(this.dataDir, 'blobs/sha256', hex), { force: true });
        out.blobs++;
      }
      return out;
    });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
