/**
 * How a recycle shows in the CLI: `get nodes -o wide` has a RECYCLE column with the phase,
 * `describe node` a Recycle line (phase, since, reason, progress); `--max-node-age` refuses a
 * value that is not a duration with what it expects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { parseMaxNodeAge } from '../../src/cli/commands/recycle-flags.js';
import { describeObject } from '../../src/cli/format/describe.js';
import { renderList } from '../../src/cli/format/output.js';
import { NOW, obj } from './fake-client.js';

const status = (recycle?: unknown): unknown => ({ state: 'ready', capacity: { cpu: '2', memory: '1Gi' }, allocatable: { cpu: '2', memory: '1Gi' }, address: '10.0.0.3', ...(recycle !== undefined ? { recycle } : {}) });
const spec = { availability: 'drain', role: 'worker', taints: [] };
const recycling = obj('Node', 'n3', spec, status({ phase: 'draining', since: '2026-01-01T00:00:00.000Z', reason: 'recycled: older than 24h', message: '1 task(s) still on it (1 moving, replacements first)' }));

void describe('recycle in the CLI output', () => {
  void it('get nodes -o wide: RECYCLE column', () => {
    const rows = renderList('Node', [recycling, obj('Node', 'n1', { ...spec, availability: 'active' }, status())], 'wide', { allNamespaces: false, now: NOW }).trimEnd().split('\n');
    assert.match(rows[0] ?? '', /ADDRESS\s+RECYCLE/);
    assert.match(rows.find((r) => r.startsWith('n3')) ?? '', /10\.0\.0\.3\s+draining/);
    assert.match(rows.find((r) => r.startsWith('n1')) ?? '', /10\.0\.0\.3\s+-/);
  });

  void it('describe node: the Recycle line', () => {
    const text = describeObject(recycling, { events: [] }, NOW);
    assert.match(text, /Recycle:\s+draining since 2026-01-01T00:00:00.000Z \(recycled: older than 24h\): 1 task\(s\) still on it/);
  });

  void it('--max-node-age: durations, off, and a clear refusal', () => {
    assert.equal(parseMaxNodeAge('24h'), 86_400_000);
    assert.equal(parseMaxNodeAge('off'), 0);
    assert.throws(() => parseMaxNodeAge('tomorrow'), (e: unknown) => e instanceof InvalidArgumentError && /expected a duration such as 24h.*found "tomorrow"/.test(e.message));
  });
});
