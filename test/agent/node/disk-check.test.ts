/** The DiskPressure condition (src/agent/node/disk-check.ts) and the clock-skew warning (src/agent/join/clock-skew.ts), pure parts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clockSkewWarning, describeSkew, skewFromDate } from '../../../src/agent/join/clock-skew.js';
import { checkDisk, diskCondition, formatBytes } from '../../../src/agent/node/disk-check.js';
import { diskPressureMessage, noNewTasksReason } from '../../../src/api/node-conditions.js';

const MiB = 1024 * 1024;

void describe('disk pressure', () => {
  it('below max(10%, 16 MiB) free: pressure, with a message naming the dir', () => {
    assert.deepEqual(diskCondition('/d', 0, 64 * MiB), { type: 'DiskPressure', status: true, reason: 'LowDiskSpace', message: 'data dir /d has 0 bytes free of 64MiB (below 16MiB): no new tasks until space is freed' });
    assert.equal(diskCondition('/d', 20 * MiB, 64 * MiB).status, false);
    assert.equal(diskCondition('/d', 9 * 1024 * MiB, 100 * 1024 * MiB).status, true, '9 GiB of 100 GiB is under 10%');
    assert.equal(formatBytes(1536), '1.5KiB');
  });

  it('a node under pressure gets no new tasks; a condition false or absent is fine', () => {
    const node = (status: boolean) => ({ status: { state: 'ready' as const, conditions: [diskCondition('/d', status ? 0 : 60 * MiB, 64 * MiB)] } });
    assert.equal(noNewTasksReason(node(true) as never), 'disk pressure');
    assert.match(diskPressureMessage(node(true) as never) ?? '', /0 bytes free/);
    assert.equal(noNewTasksReason(node(false) as never), undefined);
    assert.equal(noNewTasksReason({ status: undefined }), undefined);
  });

  it('checks a real directory', async () => {
    const c = await checkDisk('/tmp');
    assert.equal(c.type, 'DiskPressure');
    assert.match(c.message ?? '', /^data dir \/tmp has /);
  });
});

void describe('clock skew', () => {
  it('from a Date header, described and warned about beyond 30 s', () => {
    const server = Date.parse('2026-12-04T18:00:00Z');
    const skew = skewFromDate(new Date(server).toUTCString(), server + 600_000, server + 600_100);
    assert.ok(skew !== undefined && Math.abs(skew - 599_550) < 1000, String(skew));
    assert.equal(describeSkew(600_000), '10m0s ahead of');
    assert.equal(describeSkew(-90_000), '1m30s behind');
    assert.equal(describeSkew(-599_600), '10m0s behind', 'rounded before splitting: never 9m60s');
    assert.equal(clockSkewWarning('https://s', 10_000), undefined);
    assert.match(clockSkewWarning('https://s', -600_000) ?? '', /clock is 10m0s behind the clock of the server https:\/\/s; .*fix the clock \(NTP\)/);
    assert.equal(skewFromDate('nonsense', 0, 0), undefined);
  });
});
