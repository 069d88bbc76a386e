/**
 * ImagePuller against a real registry (docker-registry on loopback): by tag and by digest,
 * OCI and Docker v2 manifests, an index (linux/amd64 chosen), TLS with a custom CA, basic
 * and bearer-token auth, and the typed errors: tag not found, unreachable, unauthorized.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRetryable, NotFoundError, UnauthorizedError, UnavailableError } from '../../../src/api/errors.js';
import { ImagePuller, RegistryTlsError } from '../../../src/agent/image/index.js';
import { buildBusyboxImage, pushImageIndex } from '../../helpers/images.js';
import { freePort, runningRegistries, startRegistry, type TestRegistry } from '../../helpers/registry.js';

const T = { timeout: 60_000 };

async function withPuller<T>(f: (p: ImagePuller, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flotilla-pull-'));
  const p = new ImagePuller({ dataDir, log: () => undefined, timeoutMs: 10_000 });
  try {
    return await f(p, dataDir);
  } finally {
    await p.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('plain HTTP registry, anonymous', T, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  test('OCI manifest by tag, then by digest; config fields; second pull answered from the store', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/oci', '1', {
      entrypoint: ['httpd', '-f'], cmd: ['-p', '8080'], env: { GREETING: 'hello' }, workdir: '/www', user: '65534', exposedPorts: ['8080/tcp'],
    });
    await withPuller(async (p) => {
      const events: string[] = [];
      const a = await p.pull(img.ref, { onProgress: (e) => events.push(e.message) });
      assert.equal(a.digest, img.digest);
      assert.equal(a.cached, false);
      assert.deepEqual(a.config.Entrypoint, ['httpd', '-f']);
      assert.deepEqual(a.config.Cmd, ['-p', '8080']);
      assert.ok(a.config.Env?.includes('GREETING=hello'));
      assert.equal(a.config.WorkingDir, '/www');
      assert.equal(a.config.User, '65534');
      assert.deepEqual(Object.keys(a.config.ExposedPorts ?? {}), ['8080/tcp']);
      assert.equal(a.layers.length, 1);
      assert.match(events.at(-1) ?? '', /1\/1 layers/);
      const busybox = await readFile(path.join(a.layers[0]?.dir ?? '', 'bin/busybox'));
      assert.deepEqual(busybox, await readFile('/bin/busybox'));
      const again = await p.pull(img.ref);
      assert.equal(again.cached, true);
      const byDigest = await p.pull(`${reg.host}/demo/oci@${img.digest}`);
      assert.equal(byDigest.digest, img.digest);
      assert.equal(byDigest.cached, true);
    });
    await withPuller(async (p) => {
      const fresh = await p.pull(`${reg.host}/demo/oci@${img.digest}`);
      assert.equal(fresh.cached, false);
      assert.equal(fresh.manifestDigest, img.digest);
    });
  });

  test('Docker v2 schema 2 manifest', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/docker', 'v2', { format: 'v2s2', cmd: ['sleep', '5'] });
    await withPuller(async (p) => {
      const a = await p.pull(img.ref);
      assert.equal(a.digest, img.digest);
      assert.deepEqual(a.config.Cmd, ['sleep', '5']);
      assert.equal(a.layers[0]?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    });
  });

  test('an index chooses linux/amd64 although arm64 is listed first', T, async () => {
    const idx = await pushImageIndex(reg.host, 'demo/multi', '1');
    await withPuller(async (p) => {
      const a = await p.pull(idx.ref);
      assert.equal(a.digest, idx.digest);
      assert.equal(a.manifestDigest, idx.amd64Digest);
      assert.ok(a.config.Env?.includes('ARCH=amd64'));
      assert.equal(await readFile(path.join(a.layers[0]?.dir ?? '', 'arch'), 'utf8'), 'amd64\n');
      assert.equal((await p.pull(idx.ref)).cached, true);
      const arm = await p.pull(idx.ref.replace(':1', `@${idx.digest}`), { platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(arm.cached, true, 'same index digest answers from the store');
    });
  });

  test('a Docker manifest list chooses linux/amd64 too', T, async () => {
    const list = await pushImageIndex(reg.host, 'demo/list', '1', { format: 'v2s2' });
    await withPuller(async (p) => {
      const a = await p.pull(list.ref);
      assert.equal(a.digest, list.digest);
      assert.equal(a.manifestDigest, list.amd64Digest);
      assert.ok(a.config.Env?.includes('ARCH=amd64'));
      assert.equal(a.layers[0]?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    });
  });

  test('tag not found is a NotFoundError naming the reference', T, async () => {
    await withPuller(async (p) => {
      await assert.rejects(p.pull(`${reg.host}/demo/x:nope`), (err: Error) => {
        assert.ok(err instanceof NotFoundError, String(err));
        assert.equal(err.message, `manifest unknown: ${reg.host}/demo/x:nope`);
        assert.equal(isRetryable(err), false);
        return true;
      });
    });
  });
});

test('unreachable registry: UnavailableError, retryable', T, async () => {
  const port = await freePort();
  await withPuller(async (p) => {
    await assert.rejects(p.pull(`127.0.0.1:${port}/demo/x:1`), (err: Error) => {
      assert.ok(err instanceof UnavailableError, String(err));
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} unreachable`));
      assert.equal(isRetryable(err), true);
      return true;
    });
  });
});

describe('TLS with a custom CA', T, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ tls: true });
  });
  after(async () => {
    await reg?.stop();
  });

  test('pulls with the CA; without it a RegistryTlsError, not a silent HTTP fallback', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/tls', '1');
    await withPuller(async (p) => {
      await assert.rejects(p.pull(img.ref), RegistryTlsError);
      const a = await p.pull(img.ref, { ca: reg.caPem });
      assert.equal(a.digest, img.digest);
    });
  });
});

describe('basic auth (htpasswd)', T, () => {
  const creds = { user: 'alice', password: 's3cret' };
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ basicAuth: creds });
  });
  after(async () => {
    await reg?.stop();
  });

  test('right password pulls; wrong or missing password is UnauthorizedError', T, async () => {
    const img = await buildBusyboxImage(reg.host, 'demo/basic', '1', { creds });
    await withPuller(async (p) => {
      await assert.rejects(p.pull(img.ref), (e: Error) => e instanceof UnauthorizedError && /no credentials/.test(e.message));
      await assert.rejects(p.pull(img.ref, { auth: { username: 'alice', password: 'wrong' } }), (e: Error) => e instanceof UnauthorizedError && /wrong username or password/.test(e.message));
      const a = await p.pull(img.ref, { auth: { username: 'alice', password: 's3cret' } });
      assert.equal(a.digest, img.digest);
    });
  });
});

describe('bearer token auth (distribution token spec)', T, () => {
  const creds = { user: 'bob', password: 'hunter2' };
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ tokenAuth: true, basicAuth: creds });
  });
  after(async () => {
    await reg?.stop();
  });

  test('token fetched with credentials, cached per scope, wrong password refused', T, async () => {
    const one = await buildBusyboxImage(reg.host, 'demo/token', '1', { creds });
    const two = await buildBusyboxImage(reg.host, 'demo/token', '2', { creds, cmd: ['true'] });
    await withPuller(async (p) => {
      const auth = { username: creds.user, password: creds.password };
      const a = await p.pull(one.ref, { auth });
      assert.equal(a.digest, one.digest);
      const b = await p.pull(two.ref, { auth });
      assert.equal(b.digest, two.digest);
      assert.equal(p.client(reg.host, { auth }).auth.tokenFetches, 1, 'one token for the repository scope');
      await assert.rejects(p.pull(one.ref.replace(':1', ':3'), { auth: { username: 'bob', password: 'nope' } }), (e: Error) => e instanceof UnauthorizedError && /refused the credentials/.test(e.message));
    });
  });
});

test('no registry process left running', () => {
  assert.equal(runningRegistries(), 0);
});
