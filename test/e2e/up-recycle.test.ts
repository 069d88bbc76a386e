/**
 * `flotilla up --max-node-age 2s` (run under flock /tmp/flotilla-up.lock: it writes the nft
 * table `flotilla`): the flag reaches the recycle loop; the single node is past its age but,
 * with no provisioner and no other node for its tasks, it waits (RECYCLE `waiting` in
 * `get nodes -o wide`, the reason in `describe node`) and is never removed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, UpCluster } from '../helpers/flotilla.js';

describe('flotilla up --max-node-age', { timeout: 240_000 }, () => {
  let cluster: UpCluster | undefined;
  before(async () => { cluster = await UpCluster.start(['--max-node-age', '2s']); });
  after(async () => { await cluster?.stop(); });

  it('keeps its only node, waiting, and says why', async () => {
    const c = cluster as UpCluster;
    const wide = await eventually('the node waiting in get nodes -o wide', 60_000, async () => {
      const r = await c.cli(['get', 'nodes', '-o', 'wide']);
      return /\swaiting\s*$/m.test(r.stdout) ? r.stdout : undefined;
    });
    const name = (wide.split('\n')[1] ?? '').split(/\s+/)[0] ?? '';
    await new Promise((r) => setTimeout(r, 5_000));
    const d = await c.cli(['describe', 'node', name]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Recycle:\s+waiting since .*\(recycled: older than 2s\): waiting: no other ready, active node/);
    assert.match(d.stdout, /Availability:\s+active/);
  });
});
