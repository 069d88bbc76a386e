/**
 * Resolves a container's `user` (`uid[:gid]` or `name[:group]`) against the files of its own
 * root filesystem, as `docker run --user` does: the host's /etc/passwd means nothing inside.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../../../api/errors.js';

/** The numeric identity the container's process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** From the passwd entry when there is one; used for HOME. */
  home?: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

async function readLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

function parsePasswd(lines: string[]): PasswdEntry[] {
  return lines.map((l) => l.split(':')).filter((f) => f.length >= 6)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

function parseGroup(lines: string[]): GroupEntry[] {
  return lines.map((l) => l.split(':')).filter((f) => f.length >= 3)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }));
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);

function invalid(found: string, expected: string): ValidationError {
  return new ValidationError([{ path: 'user', expected, found }]);
}

/** Resolves `user` (default root) through `rootfs`/etc/passwd and /etc/group. */
export async function resolveUser(rootfs: string, user: string | undefined): Promise<ResolvedUser> {
  const [userPart = '0', groupPart] = (user ?? '0').split(':', 2);
  const passwd = parsePasswd(await readLines(join(rootfs, 'etc/passwd')));
  const groups = parseGroup(await readLines(join(rootfs, 'etc/group')));
  const entry = isNumeric(userPart)
    ? passwd.find((p) => p.uid === Number(userPart))
    : passwd.find((p) => p.name === userPart);
  if (entry === undefined && !isNumeric(userPart)) {
    throw invalid(userPart, 'a numeric uid or a user named in the image\'s /etc/passwd');
  }
  const uid = entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (g === undefined) throw invalid(groupPart, 'a numeric gid or a group named in the image\'s /etc/group');
      gid = g.gid;
    }
  }
  const additionalGids = entry === undefined ? [] : groups
    .filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids, ...(entry !== undefined ? { home: entry.home } : {}) };
}
