import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareQuantities, formatBytes, formatCpuMillis, isQuantity, parseBytes, parseCpuMillis, parseQuantity } from '../../src/api/quantity.js';

void describe('parseQuantity', () => {
  const table: [string | number, number][] = [
    ['1', 1], ['1.5', 1.5], ['0', 0], ['.5', 0.5], ['1.', 1], ['+2', 2],
    ['250m', 0.25], ['1n', 1e-9], ['1u', 1e-6], ['5k', 5000], ['1M', 1e6], ['1G', 1e9], ['1T', 1e12], ['1P', 1e15], ['1E', 1e18],
    ['1Ki', 1024], ['64Mi', 67108864], ['1Gi', 2 ** 30], ['1Ti', 2 ** 40], ['1Pi', 2 ** 50], ['1Ei', 2 ** 60], ['1.5Gi', 1.5 * 2 ** 30],
    ['1e3', 1000], ['1E3', 1000], ['1e+3', 1000], ['5e-3', 0.005], ['2.5e2', 250],
    [0.5, 0.5], [3, 3], [1e21, 1e21], [' 2 ', 2],
  ];
  for (const [q, want] of table) {
    void it(`${JSON.stringify(q)} = ${want}`, () => assert.equal(parseQuantity(q), want));
  }
  const garbage: unknown[] = ['', ' ', 'abc', '1.2.3', '-1', '-250m', '1KiB', '1kb', '1K', 'm', 'Mi', '1 Mi', '1mi', '1e', '0x10', 'Infinity', 'NaN', '1,5', -1, NaN, Infinity, null, undefined, {}, '1'.repeat(70)];
  for (const g of garbage) {
    void it(`rejects ${String(JSON.stringify(g))}`, () => {
      assert.throws(() => parseQuantity(g as string), (e: unknown) => e instanceof Error && /invalid quantity/.test(e.message) && /expected/.test(e.message));
      assert.equal(isQuantity(g), false);
    });
  }
  void it('says negatives are not allowed', () => {
    assert.throws(() => parseQuantity('-1'), /negative/);
  });
});

void describe('parseCpuMillis', () => {
  const table: [string | number, number][] = [
    ['250m', 250], ['1.5', 1500], ['2', 2000], [2, 2000], [0.5, 500], ['0.1', 100], ['0.3', 300], ['100m', 100],
    ['0.0001', 1], ['1u', 1], ['1n', 1], ['0', 0], ['1k', 1_000_000], ['1.0005', 1001], ['1e-3', 1], ['1Ki', 1_024_000],
  ];
  for (const [q, want] of table) void it(`${JSON.stringify(q)} -> ${want}m`, () => assert.equal(parseCpuMillis(q), want));
});

void describe('parseBytes', () => {
  const table: [string | number, number][] = [
    ['64Mi', 67108864], ['1G', 1e9], ['1048576', 1048576], ['1Ki', 1024], ['1.5Ki', 1536], ['0.5', 1], ['1m', 1], ['1k', 1000],
    ['128974848', 128974848], ['129e6', 129000000], ['123Mi', 128974848], [512, 512],
  ];
  for (const [q, want] of table) void it(`${JSON.stringify(q)} -> ${want}`, () => assert.equal(parseBytes(q), want));
  void it('refuses values beyond the safe integer range', () => assert.throws(() => parseBytes('100Ei'), /too large/));
  void it('refuses absurd exponents', () => {
    assert.throws(() => parseQuantity('1e999'), /too large/);
    assert.equal(isQuantity('1e999'), false);
    assert.equal(parseQuantity('0e999'), 0);
    assert.equal(parseQuantity('1e-999'), 0);
  });
});

void describe('quantity properties', () => {
  void it('parseBytes(n + unit) is n times the unit', () => {
    const units: [string, number][] = [['', 1], ['Ki', 1024], ['Mi', 2 ** 20], ['Gi', 2 ** 30], ['k', 1e3], ['M', 1e6], ['G', 1e9]];
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...units), (n, [suffix, size]) => {
      assert.equal(parseBytes(`${n}${suffix}`), n * size);
    }));
  });
  void it('parseCpuMillis of n/1000 written as decimal is n (no float rounding)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
      const text = `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
      assert.equal(parseCpuMillis(text), n);
      assert.equal(parseCpuMillis(`${n}m`), n);
    }));
  });
  void it('compareQuantities agrees with parseBytes on integers', () => {
    fc.assert(fc.property(fc.nat(1e9), fc.nat(1e6), (a, b) => {
      assert.equal(compareQuantities(String(a), `${b}Ki`), Math.sign(a - b * 1024));
    }));
  });
  void it('formats round-trip', () => {
    fc.assert(fc.property(fc.nat(1e6), (n) => {
      assert.equal(parseBytes(formatBytes(n * 1024)), n * 1024);
      assert.equal(parseCpuMillis(formatCpuMillis(n)), n);
    }));
    assert.equal(formatBytes(67108864), '64Mi');
    assert.equal(formatCpuMillis(250), '250m');
    assert.equal(formatCpuMillis(2000), '2');
  });
});
