/**
 * Unpacks one layer tarball into an empty directory, in the form overlayfs reads as a lower
 * layer: `.wh.NAME` becomes a whiteout (char device 0:0) and `.wh..wh..opq` the
 * `trusted.overlay.opaque=y` xattr on its directory. The lists of whiteouts and opaque dirs
 * are returned too, so a copy fallback can apply them by deletion. Computes the diff ID (the
 * sha256 of the uncompressed tar) on the way.
 *
 * node-tar writes files, dirs and hard links (modes, owners, mtimes); it rewrites absolute
 * symlink targets and never makes device nodes, so symlinks, devices and whiteouts are
 * collected during the walk and made afterwards. While node-tar runs the tree has no
 * symlinks at all, so no entry can be written through one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type ReadEntry } from 'tar';
import { UnsupportedImageError } from './errors.js';

/** What unpacking a layer produced besides the files. */
export interface UnpackResult {
  /** sha256 of the uncompressed tar: must equal the config's rootfs.diff_ids entry. */
  diffId: string;
  /** Paths (relative, no leading slash) this layer deletes from the layers below. */
  whiteouts: string[];
  /** Directories whose lower contents this layer hides. */
  opaques: string[];
  /** False when whiteouts could not be written in overlay form (no mknod or xattr rights). */
  overlayReady: boolean;
  /** Entries skipped or changed, for the log. */
  warnings: string[];
}

interface Special {
  rel: string;
  kind: 'symlink' | 'hardlink' | 'device';
  linkpath?: string;
  devType?: 'c' | 'b' | 'p';
  major?: number;
  minor?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

/** Normalizes a tar path to a safe relative path, or undefined when it would escape. */
export function safeRel(p: string): string | undefined {
  const n = path.posix.normalize(`/${p}`).slice(1).replace(/\/$/, '');
  if (n === '' || n === '.') return '';
  return n.split('/').includes('..') ? undefined : n;
}

/** Unpacks `blobFile` (gzip or plain tar) into the empty directory `dir`. */
export async function unpackLayer(blobFile: string, compression: 'gzip' | 'none', dir: string): Promise<UnpackResult> {
  const whiteouts: string[] = [];
  const opaques: string[] = [];
  const specials: Special[] = [];
  const warnings: string[] = [];
  const deferred = new Set<string>();
  const modes: { rel: string; mode: number }[] = [];
  const hash = createHash('sha256');
  const filter = (p: string, entry: unknown): boolean => classify(p, entry as ReadEntry, { whiteouts, opaques, specials, deferred, warnings, modes });
  // node-tar creates files with the process umask applied and chowns after writing (which
  // clears setuid): modes it cannot keep are collected and set once it has finished.
  const unpack = extract({
    cwd: dir, filter, chmod: true, maxDecompressionRatio: Infinity, maxDepth: Infinity,
    onwarn: (code: string, msg: string) => warnings.push(`${code}: ${msg}`),
  });
  const hasher = new Transform({
    transform(chunk: Buffer, _e, cb): void {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const source: Readable = createReadStream(blobFile);
  const plain = compression === 'gzip' ? source.pipe(createGunzip()) : source;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => reject(new UnsupportedImageError(`unpacking ${path.basename(blobFile)}: ${err.message}`));
    source.on('error', fail);
    plain.on('error', fail);
    hasher.on('error', fail);
    unpack.on('error', fail);
    unpack.on('finish', resolve);
    plain.pipe(hasher).pipe(unpack);
  });
  for (const m of modes) {
    // Before any symlink exists in the tree, so no chmod can go through one.
    await chmod(path.join(dir, m.rel), m.mode).catch((e: Error) => warnings.push(`mode of ${m.rel}: ${e.message}`));
  }
  await makeSpecials(dir, specials, warnings);
  const overlayReady = await makeOverlayMarkers(dir, whiteouts, opaques, specials, warnings);
  return { diffId: `sha256:${hash.digest('hex')}`, whiteouts, opaques, overlayReady, warnings };
}

interface Collect {
  whiteouts: string[];
  opaques: string[];
  specials: Special[];
  deferred: Set<string>;
  warnings: string[];
  modes: { rel: string; mode: number }[];
}

const UMASK = process.umask();

/** Decides for one entry: let node-tar write it (true), or record it for later (false). */
function classify(p: string, entry: ReadEntry, c: Collect): boolean {
  const rel = safeRel(p);
  if (rel === undefined) {
    c.warnings.push(`skipped ${p}: path escapes the layer`);
    return false;
  }
  const base = path.posix.basename(rel);
  const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
  if (base === WH_OPAQUE) {
    c.opaques.push(parent);
    return false;
  }
  if (base.startsWith(WH_PREFIX)) {
    if (!base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) c.whiteouts.push(path.posix.join(parent, base.slice(WH_PREFIX.length)));
    return false;
  }
  const owner = { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime };
  switch (entry.type) {
    case 'SymbolicLink':
      c.specials.push({ rel, kind: 'symlink', linkpath: entry.linkpath ?? '', ...owner });
      c.deferred.add(rel);
      return false;
    case 'Link': {
      const target = safeRel(entry.linkpath ?? '');
      if (target === undefined || !c.deferred.has(target)) return true;
      c.specials.push({ rel, kind: 'hardlink', linkpath: target });
      c.deferred.add(rel);
      return false;
    }
    case 'CharacterDevice':
    case 'BlockDevice':
    case 'FIFO': {
      const devType = entry.type === 'FIFO' ? 'p' : entry.type === 'CharacterDevice' ? 'c' : 'b';
      c.specials.push({ rel, kind: 'device', devType, major: entry.header.devmaj ?? 0, minor: entry.header.devmin ?? 0, ...owner });
      return false;
    }
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
    case 'Directory':
      if (entry.mode !== undefined && (entry.mode & (UMASK | 0o7000)) !== 0) c.modes.push({ rel, mode: entry.mode & 0o7777 });
      return true;
    default:
      return true;
  }
}

/** Rejects a path whose parent chain inside `root` passes through a symlink. */
async function parentIsSafe(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      if ((await lstat(cur)).isSymbolicLink()) return false;
    } catch {
      return true; // does not exist yet: mkdir below creates real dirs
    }
  }
  return true;
}

async function makeSpecials(dir: string, specials: Special[], warnings: string[]): Promise<void> {
  for (const s of specials.filter((x) => x.kind !== 'device')) {
    const abs = path.join(dir, s.rel);
    if (!(await parentIsSafe(dir, s.rel))) {
      warnings.push(`skipped ${s.rel}: parent is a symlink`);
      continue;
    }
    await mkdir(path.dirname(abs), { recursive: true });
    await rm(abs, { force: true });
    if (s.kind === 'symlink') {
      await symlink(s.linkpath ?? '', abs);
      if (process.getuid?.() === 0 && s.uid !== undefined) await lchown(abs, s.uid, s.gid ?? 0);
      if (s.mtime !== undefined) await lutimes(abs, s.mtime, s.mtime);
    } else {
      await link(path.join(dir, s.linkpath ?? ''), abs);
    }
  }
}

/** Writes whiteouts, devices and opaque xattrs with mknod/setfattr in one shell; false if not allowed. */
async function makeOverlayMarkers(dir: string, whiteouts: string[], opaques: string[], specials: Special[], warnings: string[]): Promise<boolean> {
  const lines: string[] = [];
  for (const rel of whiteouts) {
    if (!(await parentIsSafe(dir, rel))) continue;
    const abs = path.join(dir, rel);
    lines.push(`mkdir -p ${q(path.dirname(abs))}`, `mknod -m 000 ${q(abs)} c 0 0`);
  }
  for (const s of specials.filter((x) => x.kind === 'device')) {
    if (!(await parentIsSafe(dir, s.rel))) continue;
    const abs = path.join(dir, s.rel);
    const nums = s.devType === 'p' ? '' : ` ${s.major ?? 0} ${s.minor ?? 0}`;
    lines.push(`mkdir -p ${q(path.dirname(abs))}`, `mknod -m ${((s.mode ?? 0o600) & 0o7777).toString(8)} ${q(abs)} ${s.devType ?? 'p'}${nums}`);
    lines.push(`chown -h ${s.uid ?? 0}:${s.gid ?? 0} ${q(abs)}`);
  }
  const xattr = opaques.length > 0 ? await xattrCommand() : undefined;
  for (const rel of opaques) {
    const abs = path.join(dir, rel);
    lines.push(`mkdir -p ${q(abs)}`);
    if (xattr !== undefined) lines.push(xattr(abs));
  }
  if (lines.length === 0) return true;
  const ok = await runShell(lines.join('\n'), warnings);
  if (opaques.length > 0 && xattr === undefined) {
    warnings.push('neither setfattr nor python3 found: opaque directories need the copy fallback');
    return false;
  }
  return ok;
}

function q(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

async function onPath(name: string): Promise<string | undefined> {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(d, name);
    try {
      await access(p);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** How to set `trusted.overlay.opaque=y` here: setfattr (attr package), else python3's os.setxattr. */
async function xattrCommand(): Promise<((abs: string) => string) | undefined> {
  if ((await onPath('setfattr')) !== undefined) return (abs) => `setfattr -n trusted.overlay.opaque -v y ${q(abs)}`;
  const py = (await access('/usr/bin/python3').then(() => '/usr/bin/python3', () => undefined)) ?? (await onPath('python3'));
  if (py === undefined) return undefined;
  return (abs) => `${q(py)} -c 'import os,sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' ${q(abs)}`;
}

function runShell(script: string, warnings: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-e'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      warnings.push(`sh: ${e.message}`);
      resolve(false);
    });
    child.on('close', (code) => {
      if (code !== 0) warnings.push(`whiteouts/devices not made in overlay form: ${err.trim()}`);
      resolve(code === 0);
    });
    child.stdin.end(script);
  });
}
