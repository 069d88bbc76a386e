/**
 * Registry credentials, below the e2e test: the Secret layouts (registry login's and
 * .dockerconfigjson), the agent's resolver (named secret, namespace default, errors), the
 * need-to-know rule that lets a node read the secret its task pulls with, and the Secret that
 * `registry login` builds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../../src/api/errors.js';
import type { Task } from '../../../src/api/kinds.js';
import type { ApiObject, ObjectKey } from '../../../src/api/object.js';
import { credentialsFromSecret, normalizeRegistry, RegistrySecretError, registrySecretData } from '../../../src/api/registry-credentials.js';
import { PullCredentials } from '../../../src/agent/tasks/pull-credentials.js';
import { taskUses } from '../../../src/server/secrets/access.js';
import { registryLoginSecret } from '../../../src/cli/commands/registry.js';
import { UsageError } from '../../../src/cli/errors.js';
import { validateObject } from '../../../src/api/validate/index.js';
import { issueAt, issuesOf } from '../../api/issues.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const REG = '127.0.0.1:5000';

function task(imagePullSecret?: string, namespace = 'default'): Task {
  return {
    kind: 'Task',
    metadata: { name: 't1', namespace, uid: 't1', labels: {}, revision: 1, generation: 1, creationTimestamp: '' },
    spec: { service: 'web', node: 'n1', image: `${REG}/private/app:1`, desiredState: 'running', template: { secrets: [], configs: [], ...(imagePullSecret !== undefined ? { imagePullSecret } : {}) } },
  } as unknown as Task;
}

function secret(name: string, data: Record<string, string>, namespace = 'default'): ApiObject {
  return { kind: 'Secret', metadata: { name, namespace, uid: name, labels: {}, revision: 1, generation: 1, creationTimestamp: '' }, spec: { data } };
}

/** A getter over a fixed set of secrets; `fail` makes it throw for one name. */
function getter(secrets: ApiObject[], fail?: { name: string; err: Error }): { get(k: ObjectKey): Promise<ApiObject | undefined>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get(k: ObjectKey): Promise<ApiObject | undefined> {
      asked.push(`${k.namespace}/${k.name}`);
      if (fail !== undefined && fail.name === k.name) return Promise.reject(fail.err);
      return Promise.resolve(secrets.find((s) => s.metadata.name === k.name && s.metadata.namespace === k.namespace));
    },
  };
}

describe('registry secrets', { timeout: 30_000 }, () => {
  it('reads registry login data for its registry only', () => {
    const data = registrySecretData(REG, { username: 'ann', password: 'pw' });
    assert.deepEqual(credentialsFromSecret(data, REG), { username: 'ann', password: 'pw' });
    assert.equal(credentialsFromSecret(data, 'other.example:5000'), undefined);
  });
  it('reads .dockerconfigjson with username/password or auth', () => {
    const cfg = { auths: { 'https://127.0.0.1:5000/': { auth: b64('bob:s3:cret') }, 'index.docker.io': { username: 'u', password: 'p' } } };
    const data = { '.dockerconfigjson': b64(JSON.stringify(cfg)) };
    assert.deepEqual(credentialsFromSecret(data, REG), { username: 'bob', password: 's3:cret' });
    assert.deepEqual(credentialsFromSecret(data, 'docker.io'), { username: 'u', password: 'p' });
    assert.equal(normalizeRegistry('registry-1.docker.io'), 'docker.io');
  });
  it('refuses data that is neither layout', () => {
    assert.throws(() => credentialsFromSecret({ value: b64('x') }, REG), RegistrySecretError);
    assert.throws(() => credentialsFromSecret({ '.dockerconfigjson': b64('{') }, REG), /not JSON/);
  });
});

describe('PullCredentials', { timeout: 30_000 }, () => {
  const login = secret('private', registrySecretData(REG, { username: 'ann', password: 'pw' }));
  const dflt = secret('registry-credentials', registrySecretData(REG, { username: 'dee', password: 'pw2' }));

  it('uses the named imagePullSecret', async () => {
    assert.deepEqual(await new PullCredentials(getter([login, dflt])).forTask(task('private')), { username: 'ann', password: 'pw' });
  });
  it('uses the namespace default when the service names none', async () => {
    const g = getter([login, dflt]);
    assert.deepEqual(await new PullCredentials(g).forTask(task()), { username: 'dee', password: 'pw2' });
    assert.deepEqual(g.asked, ['default/registry-credentials']);
  });
  it('pulls anonymously without a default, or when the default is not readable or for another registry', async () => {
    assert.equal(await new PullCredentials(getter([])).forTask(task()), undefined);
    assert.equal(await new PullCredentials(getter([], { name: 'registry-credentials', err: new ForbiddenError('no') })).forTask(task()), undefined);
    const other = secret('registry-credentials', registrySecretData('elsewhere:1', { username: 'x', password: 'y' }));
    assert.equal(await new PullCredentials(getter([other])).forTask(task()), undefined);
  });
  it('rejects a named secret that is missing, malformed or for another registry', async () => {
    await assert.rejects(new PullCredentials(getter([])).forTask(task('nosuch')), (e: Error) => e instanceof NotFoundError && /imagePullSecret default\/nosuch: no such secret/.test(e.message));
    await assert.rejects(new PullCredentials(getter([secret('bad', { value: b64('x') })])).forTask(task('bad')), BadRequestError);
    const other = secret('other', registrySecretData('elsewhere:1', { username: 'x', password: 'y' }));
    await assert.rejects(new PullCredentials(getter([other])).forTask(task('other')), /holds no credentials for registry 127\.0\.0\.1:5000/);
  });
  it('lets transport errors through (retryable)', async () => {
    await assert.rejects(new PullCredentials(getter([], { name: 'registry-credentials', err: new Error('ECONNRESET') })).forTask(task()), /ECONNRESET/);
  });
});

describe('need-to-know for pull secrets', { timeout: 30_000 }, () => {
  const on = (n: string) => (taskNode: string): boolean => taskNode === n;
  it('a node may read the imagePullSecret of its task, and the namespace default when the task names none', () => {
    assert.equal(taskUses(task('private'), on('n1'), 'Secret', 'private'), true);
    assert.equal(taskUses(task('private'), on('n1'), 'Secret', 'registry-credentials'), false);
    assert.equal(taskUses(task(), on('n1'), 'Secret', 'registry-credentials'), true);
  });
  it('not another node, nor as a Config', () => {
    assert.equal(taskUses(task('private'), on('n2'), 'Secret', 'private'), false);
    assert.equal(taskUses(task('private'), on('n1'), 'Config', 'private'), false);
  });
});

describe('registry login builds the Secret', { timeout: 30_000 }, () => {
  it('default name, label, data', () => {
    const s = registryLoginSecret(REG, { username: 'ann', passwordStdin: true }, 'pw');
    assert.equal(s.metadata.name, 'registry-credentials');
    assert.deepEqual(s.metadata.labels, { 'flotilla.dev/secret-type': 'registry' });
    assert.deepEqual(credentialsFromSecret((s.spec as { data: Record<string, string> }).data, REG), { username: 'ann', password: 'pw' });
  });
  it('refuses bad input', () => {
    assert.throws(() => registryLoginSecret('http://x', { username: 'a', passwordStdin: true }, 'pw'), UsageError);
    assert.throws(() => registryLoginSecret(REG, { username: 'a:b', passwordStdin: true }, 'pw'), /--username/);
    assert.throws(() => registryLoginSecret(REG, { username: 'a', passwordStdin: true }, ''), /empty/);
    assert.throws(() => registryLoginSecret(REG, { username: 'a', passwordStdin: true, name: 'Bad_Name' }, 'pw'), /--name/);
  });
});

describe('Service.imagePullSecret validation', { timeout: 30_000 }, () => {
  const svc = (v: unknown): unknown => ({ kind: 'Service', metadata: { name: 'web' }, spec: { image: `${REG}/a:1`, imagePullSecret: v } });
  it('accepts a secret name', () => {
    assert.equal((validateObject(svc('private')).spec as { imagePullSecret?: string }).imagePullSecret, 'private');
  });
  it('refuses anything else, naming the field', () => {
    assert.match(issueAt(issuesOf(svc('Bad_Name')), 'spec.imagePullSecret').expected, /DNS label|lowercase/i);
    issueAt(issuesOf(svc(['a'])), 'spec.imagePullSecret');
  });
});
