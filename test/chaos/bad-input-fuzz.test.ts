/**
 * Issue 13, fault 7 (the fuzz part): random YAML for the manifest parser the CLI and the API
 * share, and random JSON bodies, unicode names and junk against a real `flotilla server` process.
 * The parser returns objects or throws one ValidationError whose issues each name a field; the
 * server answers every request with a 2xx or a 4xx in the error shape (a 422 naming each field),
 * never a 5xx, and is still up and healthy afterwards. Bounded: rounds(300, 3000) runs each.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ValidationError } from '../../src/api/errors.js';
import { parseManifests } from '../../src/api/manifest.js';
import { rounds, reportCounts } from '../helpers/chaos.js';
import { FlotillaProcess } from '../helpers/flotilla.js';
import { answerProblem, collection, deepJsonText, issueProblem, manifestLike, nameSegment, nastyValue, yamlText } from './bad-input-arbitraries.js';
import { RawApi } from './raw-api.js';

const RUNS = rounds(300, 3_000);

describe('chaos bad-input-fuzz: manifests and API bodies', { timeout: 600_000 }, () => {
  it('parseManifests: objects, or one ValidationError whose issues name a field', () => {
    let parsed = 0;
    let refused = 0;
    fc.assert(fc.property(yamlText, (text) => {
      try {
        parseManifests(text, 'fuzz.yaml');
        parsed++;
      } catch (err) {
        assert.ok(err instanceof ValidationError, `not a ValidationError: ${(err as Error)?.stack ?? String(err)}`);
        assert.ok(err.issues.length > 0);
        for (const i of err.issues) assert.equal(issueProblem(i), undefined);
        assert.ok(err.issues.every((i) => i.file === 'fuzz.yaml'), 'every issue names the file');
        refused++;
      }
    }), { numRuns: RUNS });
    reportCounts('bad-input-manifests', { runs: RUNS, parsed, refused, crashes: 0 });
  });

  describe('against a real server', () => {
    let dir: string;
    let server: FlotillaProcess;
    let api: RawApi;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'flotilla-fuzz-'));
      server = new FlotillaProcess(['server', '--data-dir', dir, '--listen', '127.0.0.1:0']);
      await server.start(90_000);
      api = new RawApi(path.join(dir, 'admin.json'), { maxSockets: 4 });
    });
    after(async () => {
      api?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers every random body, name and path with a 2xx or a 4xx that names the field, never a 5xx', async () => {
      const statuses = new Map<number, number>();
      const request = fc.oneof(
        fc.record({ method: fc.constant('POST'), path: collection.map((c) => `/api/v1/${c}`), body: manifestLike }),
        fc.record({ method: fc.constantFrom('PUT', 'GET', 'DELETE'), path: fc.tuple(collection, nameSegment).map(([c, n]) => `/api/v1/${c}/${n}`), body: manifestLike }),
        fc.record({ method: fc.constant('PUT'), path: fc.tuple(collection, nameSegment).map(([c, n]) => `/api/v1/${c}/${n}/status`), body: nastyValue }),
        fc.record({ method: fc.constant('POST'), path: fc.constant('/api/v1/apply'), body: fc.oneof(fc.array(manifestLike, { maxLength: 4 }).map((objects) => ({ objects })), nastyValue) }),
        fc.record({ method: fc.constantFrom('POST', 'PUT'), path: collection.map((c) => `/api/v1/${c}/x`), body: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => `raw:${s}`) }),
        fc.record({ method: fc.constantFrom('POST', 'PUT'), path: fc.constantFrom('/api/v1/configs', '/api/v1/jointokens', '/api/v1/configs/deep', '/api/v1/apply'), body: deepJsonText.map((s) => `raw:${s}`) }),
        fc.record({ method: fc.constant('GET'), path: fc.tuple(collection, nameSegment, nameSegment).map(([c, q, r]) => `/api/v1/${c}?labelSelector=${q}&namespace=${r}&revision=${r}`), body: fc.constant(undefined) }),
      );
      await fc.assert(fc.asyncProperty(request, async ({ method, path: p, body }) => {
        const text = typeof body === 'string' && body.startsWith('raw:') ? body.slice(4) : body === undefined ? undefined : JSON.stringify(body);
        const a = await api.request(method, p, text === undefined || text === '' ? undefined : text, 30_000);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const problem = a.status === 0 ? `no answer: ${a.error ?? ''}` : answerProblem(a.status, a.json, a.text);
        assert.equal(problem, undefined, `${method} ${p.slice(0, 200)}`);
      }), { numRuns: RUNS });
      const health = await api.request('GET', '/healthz');
      assert.equal(health.status, 200, 'the server is still up');
      const fiveHundreds = server.output.split('\n').filter((l) => /: 5\d\d /.test(l));
      reportCounts('bad-input-api', { runs: RUNS, ...Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0]).map(([s, n]) => [`status-${s}`, n])), 'server-5xx-logged': fiveHundreds.length });
      assert.deepEqual(fiveHundreds.slice(0, 5), [], 'the server logged no 5xx');
      assert.ok(server.child !== undefined && server.child.exitCode === null, 'the server process is alive');
    });
  });
});
