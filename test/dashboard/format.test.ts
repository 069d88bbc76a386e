/** The dashboard's figures: bytes, cores, percents, ages, quantities (src/dashboard/format.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { barPercent, formatAge, formatBytes, formatClock, formatCores, formatPercent, parseCpuQuantity, parseMemoryQuantity } from '../../src/dashboard/format.js';

describe('dashboard format', () => {
  it('bytes in binary units, like flotilla top', () => {
    const cases: Array<[number | undefined, string]> = [
      [0, '0 B'], [512, '512 B'], [1024, '1 KiB'], [1536, '1.5 KiB'], [64 * 2 ** 20, '64 MiB'],
      [252 * 1024, '252 KiB'], [1.91 * 2 ** 30, '1.91 GiB'], [12.25 * 2 ** 30, '12.3 GiB'], [2 ** 60, '1024 PiB'],
      [-1, '-'], [Number.NaN, '-'], [undefined, '-'],
    ];
    for (const [n, want] of cases) assert.equal(formatBytes(n), want, String(n));
  });

  it('cores as millicores below one core', () => {
    assert.equal(formatCores(0.25), '250m');
    assert.equal(formatCores(0.0004), '0m');
    assert.equal(formatCores(0.9996), '1000m');
    assert.equal(formatCores(1), '1');
    assert.equal(formatCores(1.5), '1.5');
    assert.equal(formatCores(2.345), '2.35');
    assert.equal(formatCores(undefined), '-');
    assert.equal(formatCores(-2), '-');
  });

  it('percents and bar widths', () => {
    assert.equal(formatPercent(42.4), '42%');
    assert.equal(formatPercent(0.4), '0.4%');
    assert.equal(formatPercent(0), '0%');
    assert.equal(formatPercent(undefined), '-');
    assert.equal(barPercent(150), 100);
    assert.equal(barPercent(-3), 0);
    assert.equal(barPercent(undefined), 0);
    assert.equal(barPercent(37.5), 37.5);
  });

  it('ages like kubectl: seconds to 2 minutes, minutes to 2 hours, hours to 2 days', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const ago = (s: number): string => new Date(now - s * 1000).toISOString();
    assert.equal(formatAge(ago(5), now), '5s');
    assert.equal(formatAge(ago(119), now), '119s');
    assert.equal(formatAge(ago(180), now), '3m');
    assert.equal(formatAge(ago(7200), now), '2h');
    assert.equal(formatAge(ago(4 * 86400), now), '4d');
    assert.equal(formatAge(ago(-10), now), '0s', 'a clock ahead is not a negative age');
    assert.equal(formatAge(undefined, now), '-');
    assert.equal(formatAge('yesterday', now), '-');
    assert.match(formatClock('2026-12-04T12:03:04Z'), /^\d\d:03:04$/);
    assert.equal(formatClock('not a time'), 'not a time');
  });

  it('quantities of node capacity and task requests', () => {
    assert.equal(parseCpuQuantity('4'), 4);
    assert.equal(parseCpuQuantity('250m'), 0.25);
    assert.equal(parseCpuQuantity('1.5'), 1.5);
    assert.equal(parseCpuQuantity('lots'), undefined);
    assert.equal(parseMemoryQuantity('64Mi'), 64 * 2 ** 20);
    assert.equal(parseMemoryQuantity('1G'), 1e9);
    assert.equal(parseMemoryQuantity('1048576'), 1048576);
    assert.equal(parseMemoryQuantity('12 parsecs'), undefined);
    assert.equal(parseMemoryQuantity(undefined), undefined);
  });
});
