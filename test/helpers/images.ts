/**
 * Tiny test images built from /bin/busybox (static) with umoci and pushed with skopeo to a
 * test registry: a one-layer busybox image, a multi-layer image whose upper layer deletes a
 * file, a directory and makes a directory opaque (real `.wh.` entries), and an OCI image
 * index with linux/arm64 listed before linux/amd64 to test platform selection.
 * Layers are tarred with GNU tar and added with `umoci raw add-layer`, so whiteouts are
 * exactly what the test wrote.
 */
import { execFile } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { chmod, chown, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** busybox applets linked in /bin. */
export const APPLETS = ['sh', 'httpd', 'sleep', 'cat', 'echo', 'wget', 'hostname', 'ps', 'ls', 'true', 'false', 'env', 'id', 'mkdir', 'rm', 'test', 'timeout', 'nc', 'date', 'pwd', 'grep', 'kill'];

/** Image settings and push options. */
export interface ImageOptions {
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  user?: string;
  exposedPorts?: string[];
  /** Manifest format pushed: OCI (default) or Docker v2 schema 2. */
  format?: 'oci' | 'v2s2';
  creds?: { user: string; password: string };
  /** Extra files in the busybox layer: path -> content. */
  files?: Record<string, string | Buffer>;
  /** Paths among `files` made executable (0755), e.g. a copied binary and its loader. */
  executables?: string[];
}

/** Where an image was pushed. */
export interface PushedImage {
  ref: string;
  /** Digest of what the tag points at (manifest, or index for pushImageIndex). */
  digest: string;
}

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const abs = path.join(root, p);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

/** Fills `root` with a busybox rootfs: /bin/busybox, applet links, /etc basics, /www. */
export async function busyboxRootfs(root: string, files: Record<string, string | Buffer> = {}): Promise<void> {
  for (const d of ['bin', 'etc', 'root', 'proc', 'sys', 'dev', 'www', 'tmp']) await mkdir(path.join(root, d), { recursive: true });
  await chmod(path.join(root, 'tmp'), 0o1777);
  await writeFile(path.join(root, 'bin/busybox'), await readFile('/bin/busybox'));
  await chmod(path.join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) await symlink('busybox', path.join(root, 'bin', a));
  await writeFiles(root, {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'www/index.html': 'hello from flotilla\n',
    ...files,
  });
}

async function tarLayer(dir: string, out: string): Promise<void> {
  await run('tar', ['--numeric-owner', '--sort=name', '-C', dir, '-cf', out, '.']);
}

/** A umoci OCI layout being built in a temp dir. */
class Layout {
  private constructor(readonly work: string, readonly dir: string) {}

  static async create(): Promise<Layout> {
    const work = await mkdtemp(path.join(tmpdir(), 'flotilla-image-'));
    const dir = path.join(work, 'layout');
    await run('umoci', ['init', '--layout', dir]);
    return new Layout(work, dir);
  }

  async newImage(tag: string): Promise<void> {
    await run('umoci', ['new', '--image', `${this.dir}:${tag}`]);
  }

  /** Adds a layer made by `fill(rootDir)` to image `tag`. */
  async addLayer(tag: string, fill: (root: string) => Promise<void>): Promise<void> {
    const root = await mkdtemp(path.join(this.work, 'layer-'));
    await fill(root);
    const tarFile = `${root}.tar`;
    await tarLayer(root, tarFile);
    await run('umoci', ['raw', 'add-layer', '--image', `${this.dir}:${tag}`, tarFile]);
    await rm(root, { recursive: true, force: true });
    await rm(tarFile, { force: true });
  }

  async configure(tag: string, opts: ImageOptions, extra: string[] = []): Promise<void> {
    const args = ['config', '--image', `${this.dir}:${tag}`, ...extra];
    for (const e of opts.entrypoint ?? []) args.push('--config.entrypoint', e);
    for (const c of opts.cmd ?? ['sh']) args.push('--config.cmd', c);
    for (const [k, v] of Object.entries(opts.env ?? {})) args.push('--config.env', `${k}=${v}`);
    if (opts.workdir !== undefined) args.push('--config.workingdir', opts.workdir);
    if (opts.user !== undefined) args.push('--config.user', opts.user);
    for (const p of opts.exposedPorts ?? []) args.push('--config.exposedports', p);
    await run('umoci', args);
  }

  /** Pushes `oci:LAYOUT:tag` to `host/repo:destTag` with skopeo; returns the pushed digest. */
  async push(tag: string, host: string, repo: string, destTag: string, opts: ImageOptions, all = false): Promise<PushedImage> {
    await run('umoci', ['gc', '--layout', this.dir]).catch(() => undefined);
    const digestFile = path.join(this.work, 'digest');
    const args = ['copy', '--quiet', '--dest-tls-verify=false', '--digestfile', digestFile];
    if (opts.creds !== undefined) args.push('--dest-creds', `${opts.creds.user}:${opts.creds.password}`);
    if (opts.format !== undefined) args.push('--format', opts.format);
    if (all) args.push('--all');
    const ref = `${host}/${repo}:${destTag}`;
    args.push(`oci:${this.dir}:${tag}`, `docker://${ref}`);
    await run('skopeo', args, { timeout: 60_000 });
    return { ref, digest: (await readFile(digestFile, 'utf8')).trim() };
  }

  async dispose(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }
}

/** Builds a one-layer busybox image and pushes it to `registryHost/repo:tag`. */
export async function buildBusyboxImage(registryHost: string, repo: string, tag: string, opts: ImageOptions = {}): Promise<PushedImage> {
  const layout = await Layout.create();
  try {
    await layout.newImage('img');
    await layout.addLayer('img', async (root) => {
      await busyboxRootfs(root, opts.files);
      for (const p of opts.executables ?? []) await chmod(path.join(root, p), 0o755);
    });
    await layout.configure('img', opts);
    return await layout.push('img', registryHost, repo, tag, opts);
  } finally {
    await layout.dispose();
  }
}

/** Options of the multi-layer image: extra layers of random content (for the bench). */
export interface MultiLayerOptions extends ImageOptions {
  randomLayers?: number;
  randomBytesPerLayer?: number;
}

/**
 * Layer 1: busybox plus /etc/removed.txt, /gone-dir/a, /opaque/{old1,sub/old2},
 * /keep/{kept.txt, hard (hard link), abs-link -> /bin/busybox, owned.txt (1000:1000, 0640),
 * rw.txt (0666), suid (04755)}.
 * Layer 2: /data/added.txt, `.wh.` whiteouts of /etc/removed.txt and /gone-dir, /opaque made
 * opaque with /opaque/new.txt. Then `randomLayers` layers of random files.
 */
export async function buildMultiLayerImage(registryHost: string, repo: string, tag: string, opts: MultiLayerOptions = {}): Promise<PushedImage> {
  const layout = await Layout.create();
  try {
    await layout.newImage('img');
    await layout.addLayer('img', async (root) => {
      await busyboxRootfs(root, {
        'etc/removed.txt': 'to be removed\n', 'gone-dir/a': 'a\n', 'opaque/old1': 'old1\n', 'opaque/sub/old2': 'old2\n',
        'keep/kept.txt': 'kept\n', 'keep/owned.txt': 'owned\n', 'keep/rw.txt': 'rw\n', 'keep/suid': 'suid\n', ...opts.files,
      });
      await link(path.join(root, 'keep/kept.txt'), path.join(root, 'keep/hard'));
      await symlink('/bin/busybox', path.join(root, 'keep/abs-link'));
      await chown(path.join(root, 'keep/owned.txt'), 1000, 1000);
      await chmod(path.join(root, 'keep/owned.txt'), 0o640);
      await chmod(path.join(root, 'keep/rw.txt'), 0o666);
      await chmod(path.join(root, 'keep/suid'), 0o4755);
    });
    await layout.addLayer('img', async (root) => {
      await writeFiles(root, { 'data/added.txt': 'added\n', 'etc/.wh.removed.txt': '', '.wh.gone-dir': '', 'opaque/.wh..wh..opq': '', 'opaque/new.txt': 'new\n' });
    });
    for (let i = 0; i < (opts.randomLayers ?? 0); i++) {
      await layout.addLayer('img', (root) => writeFiles(root, { [`random/layer${i}.bin`]: randomBytes(opts.randomBytesPerLayer ?? 1 << 20) }));
    }
    await layout.configure('img', opts);
    return await layout.push('img', registryHost, repo, tag, opts);
  } finally {
    await layout.dispose();
  }
}

interface IndexJson {
  schemaVersion: number;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

/**
 * Pushes an OCI image index (or, with format 'v2s2', a Docker manifest list) with linux/arm64
 * first and linux/amd64 second; each image has env ARCH=<arch> and /arch. Returns the index
 * digest and each platform manifest's digest as pushed.
 */
export async function pushImageIndex(registryHost: string, repo: string, tag: string, opts: ImageOptions = {}): Promise<PushedImage & { amd64Digest: string; arm64Digest: string }> {
  const layout = await Layout.create();
  try {
    for (const arch of ['arm64', 'amd64']) {
      await layout.newImage(arch);
      await layout.addLayer(arch, (root) => busyboxRootfs(root, { arch: `${arch}\n` }));
      await layout.configure(arch, { ...opts, env: { ...opts.env, ARCH: arch } }, ['--architecture', arch, '--os', 'linux']);
    }
    const indexFile = path.join(layout.dir, 'index.json');
    const top = JSON.parse(await readFile(indexFile, 'utf8')) as IndexJson;
    const byTag = (t: string): IndexJson['manifests'][number] => {
      const m = top.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === t);
      if (m === undefined) throw new Error(`no ${t} in layout`);
      return m;
    };
    const arm = byTag('arm64');
    const amd = byTag('amd64');
    const strip = (m: IndexJson['manifests'][number]): object => ({ mediaType: m.mediaType, digest: m.digest, size: m.size });
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...strip(arm), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { ...strip(amd), platform: { architecture: 'amd64', os: 'linux' } },
      ],
    });
    const hex = createHash('sha256').update(index).digest('hex');
    await writeFile(path.join(layout.dir, 'blobs/sha256', hex), index);
    top.manifests.push({
      mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${hex}`, size: Buffer.byteLength(index),
      annotations: { 'org.opencontainers.image.ref.name': 'multi' },
    });
    await writeFile(indexFile, JSON.stringify(top));
    const pushed = await layout.push('multi', registryHost, repo, tag, opts, true);
    // skopeo may convert (--format v2s2 makes a Docker manifest list): read back what was pushed.
    const args = ['inspect', '--raw', '--tls-verify=false', ...(opts.creds ? ['--creds', `${opts.creds.user}:${opts.creds.password}`] : []), `docker://${pushed.ref}`];
    const list = JSON.parse((await run('skopeo', args)).stdout) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const digestOf = (arch: string): string => list.manifests.find((m) => m.platform.architecture === arch)?.digest ?? '';
    return { ...pushed, amd64Digest: digestOf('amd64'), arm64Digest: digestOf('arm64') };
  } finally {
    await layout.dispose();
  }
}

/** Path of a blob's data file inside a registry's filesystem storage (to tamper with it). */
export function registryBlobPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return path.join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
