/**
 * Unit tests of the pure and file-level parts: OCI config, user resolution, k8s log parsing,
 * log rotation (with a fifo standing in for conmon's control pipe).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../../../src/api/errors.js';
import { LineAssembler, parseK8sLine, readLogFiles } from '../../../src/agent/runtime/logs/k8s-log.js';
import { rotateIfNeeded } from '../../../src/agent/runtime/logs/log-rotator.js';
import { signalOfExitCode } from '../../../src/agent/runtime/runc/exit.js';
import { buildOciConfig, DEFAULT_PATH } from '../../../src/agent/runtime/runc/oci-config.js';
import { resolveUser } from '../../../src/agent/runtime/runc/user.js';

const root = { uid: 0, gid: 0, additionalGids: [] };

describe('buildOciConfig', () => {
  const base = { id: 'c1', rootfs: '/r', args: ['sh'] };

  it('is never a terminal and has the default namespaces, mounts and masked paths', () => {
    const c = buildOciConfig(base, { user: root, cgroupsPath: '/flotilla/c1' }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading a JSON document
    assert.equal(c.process.terminal, false);
    assert.deepEqual(c.linux.namespaces.map((n: { type: string }) => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.equal(c.linux.cgroupsPath, '/flotilla/c1');
    assert.deepEqual(c.mounts.map((m: { destination: string }) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    assert.ok(c.linux.maskedPaths.includes('/proc/kcore'));
    assert.ok(c.linux.readonlyPaths.includes('/proc/sys'));
    assert.deepEqual(c.process.env, [`PATH=${DEFAULT_PATH}`, 'HOME=/']);
    assert.equal(c.hostname, 'c1');
    assert.ok(!c.process.capabilities.bounding.includes('CAP_NET_RAW'));
    assert.equal(c.process.rlimits[0].type, 'RLIMIT_NOFILE');
  });

  it('maps limits, netns, mounts, user and annotations', () => {
    const c = buildOciConfig({
      ...base, netnsPath: '/var/run/netns/x', limits: { memoryBytes: 1 << 25, cpuMillis: 250, pids: 10 },
      mounts: [{ type: 'bind', source: '/h', target: '/c', readOnly: true }, { type: 'tmpfs', target: '/t', options: ['size=1m'] }],
      annotations: { task: 't1' }, env: { A: '1', PATH: '/bin' }, cwd: '/w', hostname: 'h',
    }, { user: { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' }, cgroupsPath: '/p/c1', nofile: 4096 }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading a JSON document
    assert.deepEqual(c.linux.resources.memory, { limit: 1 << 25, swap: 1 << 25 });
    assert.deepEqual(c.linux.resources.cpu, { quota: 25000, period: 100000 });
    assert.deepEqual(c.linux.resources.pids, { limit: 10 });
    assert.deepEqual(c.linux.namespaces.at(-1), { type: 'network', path: '/var/run/netns/x' });
    assert.deepEqual(c.mounts.at(-2), { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'rprivate', 'ro'] });
    assert.deepEqual(c.mounts.at(-1), { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] });
    assert.deepEqual(c.process.user, { uid: 1000, gid: 1000, additionalGids: [50] });
    assert.deepEqual(c.process.env, ['PATH=/bin', 'HOME=/home/app', 'A=1', 'HOSTNAME=h']);
    assert.deepEqual(c.annotations, { task: 't1' });
    assert.equal(c.process.rlimits[0].hard, 4096);
  });
});

describe('resolveUser', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flusr-'));
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    await writeFile(join(dir, 'etc/group'), 'root:x:0:\nwheel:x:10:app\napp:x:1000:\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves names, numbers and groups through the rootfs', async () => {
    assert.deepEqual(await resolveUser(dir, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
    assert.deepEqual(await resolveUser(dir, 'app'), { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/app' });
    assert.deepEqual(await resolveUser(dir, 'app:wheel'), { uid: 1000, gid: 10, additionalGids: [], home: '/home/app' });
    assert.deepEqual(await resolveUser(dir, '4242:7'), { uid: 4242, gid: 7, additionalGids: [] });
    await assert.rejects(resolveUser(dir, 'ghost'), ValidationError);
    await assert.rejects(resolveUser(dir, 'app:ghosts'), ValidationError);
  });
});

describe('k8s-file log format', () => {
  it('parses records and joins partial lines per stream', () => {
    assert.deepEqual(parseK8sLine('2024-01-01T00:00:00.1+00:00 stdout F hello world'),
      { time: '2024-01-01T00:00:00.1+00:00', stream: 'stdout', partial: false, text: 'hello world' });
    assert.equal(parseK8sLine('garbage'), undefined);
    assert.equal(parseK8sLine('t stdout F')?.text, '');
    const asm = new LineAssembler();
    assert.equal(asm.push(parseK8sLine('t1 stdout P abc')!), undefined);
    assert.deepEqual(asm.push(parseK8sLine('t2 stderr F err')!), { stream: 'stderr', line: 'err', time: 't2' });
    assert.deepEqual(asm.push(parseK8sLine('t3 stdout F def')!), { stream: 'stdout', line: 'abcdef', time: 't3' });
    assert.equal(signalOfExitCode(137), 'SIGKILL');
    assert.equal(signalOfExitCode(143), 'SIGTERM');
    assert.equal(signalOfExitCode(3), undefined);
  });
});

describe('log rotation', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flrot-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shifts files, keeps maxFiles, asks the monitor to reopen, and reads them back in order', async () => {
    const base = join(dir, 'c.log');
    const ctl = join(dir, 'ctl');
    execFileSync('mkfifo', [ctl]);
    const reader = openSync(ctl, constants.O_RDONLY | constants.O_NONBLOCK); // stands in for conmon
    try {
      const t = { logPath: base, ctlPath: ctl, maxBytes: 50, maxFiles: 3 };
      let n = 0;
      const write = async (): Promise<void> => {
        const lines = Array.from({ length: 3 }, () => `2024-01-01T00:00:00Z stdout F line ${++n}`);
        await writeFile(base, lines.join('\n') + '\n');
      };
      await write();
      assert.equal(await rotateIfNeeded({ ...t, maxBytes: 1 << 20 }), false);
      for (let i = 0; i < 4; i++) {
        assert.equal(await rotateIfNeeded(t), true);
        await write(); // what conmon does after reopening
      }
      assert.ok(existsSync(`${base}.1`) && existsSync(`${base}.2`) && !existsSync(`${base}.3`));
      const buf = Buffer.alloc(100);
      assert.equal(buf.subarray(0, readSync(reader, buf)).toString(), '2 0 0\n'.repeat(4));
      const lines: string[] = [];
      for await (const e of readLogFiles(base, { maxFiles: 3 })) lines.push(e.line);
      assert.deepEqual(lines, [7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => `line ${i}`));
    } finally {
      closeSync(reader);
    }
  });
});
