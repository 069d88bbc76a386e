/** Task status times from agents are restamped with the server's receive time (src/server/http/receive-time.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stampReceiveTimes } from '../../src/server/http/receive-time.js';

const NOW = Date.parse('2026-12-04T18:00:00Z');
const agentAhead = '2026-12-04T18:10:00.000Z';

void describe('receive times', () => {
  it('a changed timestamp or readySince from a node becomes the server time', () => {
    const out = stampReceiveTimes('Task', true, { timestamp: 'old', readySince: undefined }, { state: 'running', timestamp: agentAhead, readySince: agentAhead }, NOW) as Record<string, unknown>;
    assert.equal(out.timestamp, new Date(NOW).toISOString());
    assert.equal(out.readySince, new Date(NOW).toISOString());
    assert.equal(out.state, 'running');
  });

  it('a readySince sent back unchanged is kept; other writers and kinds are left alone', () => {
    const stored = { timestamp: 'a', readySince: '2026-12-04T17:00:00.000Z' };
    const out = stampReceiveTimes('Task', true, stored, { timestamp: agentAhead, readySince: stored.readySince }, NOW) as Record<string, unknown>;
    assert.equal(out.readySince, stored.readySince);
    const admin = { timestamp: agentAhead };
    assert.equal(stampReceiveTimes('Task', false, stored, admin, NOW), admin);
    assert.equal(stampReceiveTimes('Node', true, stored, admin, NOW), admin);
  });
});
