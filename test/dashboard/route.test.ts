/** Hash routes of the dashboard (src/dashboard/route.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute } from '../../src/dashboard/route.js';

describe('dashboard routes', () => {
  it('parses the overview, node and service pages', () => {
    assert.deepEqual(parseRoute(''), { page: 'overview' });
    assert.deepEqual(parseRoute('#/'), { page: 'overview' });
    assert.deepEqual(parseRoute('#/nodes/node-1'), { page: 'node', name: 'node-1' });
    assert.deepEqual(parseRoute('#/services/default/web'), { page: 'service', namespace: 'default', name: 'web' });
    assert.deepEqual(parseRoute('#/services/team%2Da/api'), { page: 'service', namespace: 'team-a', name: 'api' });
  });

  it('anything else is unknown', () => {
    assert.equal(parseRoute('#/services/web').page, 'unknown');
    assert.equal(parseRoute('#/nodes/%E0%A4%A').page, 'unknown');
    assert.equal(parseRoute('#/secrets').page, 'unknown');
  });
});
