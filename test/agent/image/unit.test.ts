/**
 * Unit tests of the pure parts: Docker reference parsing, WWW-Authenticate parsing, manifest
 * parsing and platform selection, progress messages.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/api/errors.js';
import { parseWwwAuthenticate } from '../../../src/agent/image/auth.js';
import { MediaType, parseManifest, selectPlatform } from '../../../src/agent/image/manifest.js';
import { ProgressTracker, type PullProgress } from '../../../src/agent/image/progress.js';
import { formatReference, isLoopbackRegistry, parseReference } from '../../../src/agent/image/reference.js';
import { safeRel } from '../../../src/agent/image/unpack.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference (Docker rules)', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['someone/app:v1', 'docker.io/someone/app:v1'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['127.0.0.1:5000/demo/x:nope', '127.0.0.1:5000/demo/x:nope'],
    ['example.com/a/b/c:t', 'example.com/a/b/c:t'],
    [`127.0.0.1:5000/demo/x@${D}`, `127.0.0.1:5000/demo/x@${D}`],
    [`127.0.0.1:5000/demo/x:1@${D}`, `127.0.0.1:5000/demo/x:1@${D}`],
    ['Upper.example.com/app', 'Upper.example.com/app:latest'],
    ['UPPER/app', 'UPPER/app:latest'], // an upper-case first component is a host, as in Docker
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['a__b/c-d--e.f', 'docker.io/a__b/c-d--e.f:latest'],
  ];
  for (const [input, want] of cases) {
    test(input, () => assert.equal(formatReference(parseReference(input)), want));
  }

  test('fields of a registry reference', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/demo/x:1@${D}`), { registry: '127.0.0.1:5000', repository: 'demo/x', tag: '1', digest: D });
    assert.deepEqual(parseReference(`h:1/x@${D}`), { registry: 'h:1', repository: 'x', digest: D });
  });

  const bad = ['', 'app/UPPER', 'docker.io/Busybox', 'app:', 'app:-bad', 'app@sha256:abc', 'a//b', '/app', 'app/', 'x:5000/a b', `app@sha256:${'A'.repeat(64)}`];
  for (const input of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => parseReference(input), BadRequestError));
  }

  test('loopback registries', () => {
    assert.ok(isLoopbackRegistry('127.0.0.1:5000'));
    assert.ok(isLoopbackRegistry('localhost'));
    assert.ok(isLoopbackRegistry('[::1]:5000'));
    assert.ok(!isLoopbackRegistry('example.com:5000'));
  });
});

describe('parseWwwAuthenticate', () => {
  test('bearer with quoted params', () => {
    const c = parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
    assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } }]);
  });
  test('basic, unquoted params, several challenges and escapes', () => {
    const c = parseWwwAuthenticate('Basic realm="x \\"y\\"", Bearer realm=http://h/t, error=insufficient_scope');
    assert.deepEqual(c, [
      { scheme: 'basic', params: { realm: 'x "y"' } },
      { scheme: 'bearer', params: { realm: 'http://h/t', error: 'insufficient_scope' } },
    ]);
  });
});

describe('manifests', () => {
  const desc = (arch: string, variant?: string): object => ({ mediaType: MediaType.ociManifest, digest: `sha256:${arch.padEnd(64, '0').slice(0, 64).replace(/[^a-f0-9]/g, 'f')}`, size: 1, platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) } });
  test('index picks linux/amd64 wherever it is listed', () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc('arm64', 'v8'), { ...desc('unknown'), platform: { os: 'unknown', architecture: 'unknown' } }, desc('amd64')] }));
    const p = parseManifest(body, undefined, 'x');
    assert.equal(p.kind, 'index');
    if (p.kind !== 'index') return;
    assert.equal(selectPlatform(p.index, 'x').platform?.architecture, 'amd64');
    assert.throws(() => selectPlatform(p.index, 'x', { os: 'linux', architecture: 's390x' }), /no manifest for linux\/s390x/);
  });
  test('schema 1 is refused clearly; media type may come from Content-Type', () => {
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"name":"x"}'), undefined, 'x'), /schema 1/);
    const m = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'c', digest: D, size: 2 }, layers: [] })), MediaType.dockerManifest, 'x');
    assert.equal(m.kind === 'manifest' && m.manifest.mediaType, MediaType.dockerManifest);
  });
});

test('safeRel keeps layer paths inside the layer', () => {
  assert.equal(safeRel('./etc/passwd'), 'etc/passwd');
  assert.equal(safeRel('/abs/x/'), 'abs/x');
  assert.equal(safeRel('a/../b'), 'b');
  assert.equal(safeRel('../../etc/shadow'), 'etc/shadow');
  assert.equal(safeRel('./'), '');
});

test('progress: per-layer bytes, summed message, throttled', () => {
  const events: PullProgress[] = [];
  let now = 0;
  const t = new ProgressTracker('r:1', [{ digest: 'a', size: 1_000_000 }, { digest: 'b', size: 3_000_000 }], (p) => events.push(p), 100, () => now);
  t.bytes(0, 10);
  t.bytes(0, 20);
  now = 200;
  t.bytes(0, 1_000_000);
  t.done(0);
  assert.equal(events.length, 3);
  assert.equal(events.at(-1)?.message, 'pulling r:1: 1/2 layers, 1.0 MB of 4.0 MB');
  assert.equal(events[0]?.layers[0]?.state, 'downloading');
});
