/**
 * Issue "Compose stacks" on `flotilla up`, as a Docker user would: a web + api + db + cache
 * stack from a Compose file (interpolated image names, a secret from a file, healthchecks, a
 * named volume, depends_on). Every service runs; the db's healthcheck is its readiness probe
 * (not ready until its file exists) and the api, which depends_on it being healthy, starts only
 * then; the api reads its secret and reaches web by its compose name; the db's named volume
 * survives kill -9 of its task; a second deploy is unchanged, a changed one updates in place and
 * --prune removes what left the file; a stack the server refuses creates nothing; `stack rm`
 * leaves no object, task or container behind.
 * Run under flock /tmp/flotilla-up.lock (it writes the machine's nft table).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, UpCluster, type TaskJson } from '../helpers/flotilla.js';

const STACK = 'shop';
const PUBLISHED = 20_000 + Math.floor(Math.random() * 10_000);

function composeFile(opts: { webGreeting: string; withCache: boolean }): string {
  return `# web + api + db + cache, in the style of docker's example-voting-app
services:
  web:
    image: \${STACK_E2E_IMAGE}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    environment:
      GREETING: ${opts.webGreeting}
    ports: ["\${STACK_E2E_PORT}:8080"]
    deploy:
      update_config: {order: stop-first, monitor: 1s}
  api:
    image: \${STACK_E2E_IMAGE}
    entrypoint: ["sh", "-c"]
    command: ["exec httpd -f -p 5000 -h /www"]
    expose: ["5000"]
    deploy: {replicas: 2}
    secrets: [db_password]
    environment: [DB_HOST=db, CACHE_HOST=cache]
    depends_on:
      db: {condition: service_healthy}
${opts.withCache ? '      cache: {condition: service_started}\n' : ''}    healthcheck:
      test: ["CMD-SHELL", "timeout 2 wget -q -O /dev/null http://127.0.0.1:5000/"]
      interval: 1s
      timeout: 2s
      retries: 3
  db:
    image: \${STACK_E2E_IMAGE}
    command: ["httpd", "-f", "-p", "5432", "-h", "/var/lib/db"]
    expose: ["5432"]
    volumes: ["db-data:/var/lib/db"]
    secrets:
      - {source: db_password, target: db_password, mode: 0400}
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "test", "-f", "/var/lib/db/ready"]
      interval: 1s
      retries: 2
      start_period: 300s
      start_interval: 1s
${opts.withCache ? `  cache:
    image: \${STACK_E2E_IMAGE}
    command: ["sh", "-c", "while true; do echo PONG | nc -l -p 6379; done"]
    expose: ["6379"]
    tmpfs: ["/data:size=8m"]
` : ''}secrets:
  db_password:
    file: ./db_password.txt
volumes:
  db-data:
networks:
  front-tier:
  back-tier:
`;
}

const running = (ts: TaskJson[], service: string): TaskJson[] => ts.filter((t) => t.spec.service === service && t.status?.state === 'running' && t.spec.desiredState === 'running');

describe('flotilla stack on flotilla up: a Compose stack end to end', { timeout: 600_000 }, () => {
  let registry: TestRegistry | undefined;
  let cluster: UpCluster | undefined;
  let dir = '';

  before(async () => {
    registry = await startRegistry();
    const image = await buildBusyboxImage(registry.host, 'demo/stack', '1', { files: { 'www/index.html': 'hello from the stack\n' } });
    process.env.STACK_E2E_IMAGE = image.ref;
    process.env.STACK_E2E_PORT = String(PUBLISHED);
    dir = await mkdtemp(path.join(tmpdir(), 'flotilla-stack-'));
    await writeFile(path.join(dir, 'db_password.txt'), 's3cr3t-from-file\n');
    await writeFile(path.join(dir, 'compose.yaml'), composeFile({ webGreeting: 'hello', withCache: true }));
    cluster = await UpCluster.start();
  });
  after(async () => {
    await cluster?.stop();
    await registry?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const c = (): UpCluster => cluster as UpCluster;
  const compose = (): string => path.join(dir, 'compose.yaml');
  const tasks = async (): Promise<TaskJson[]> => {
    const r = await c().cli(['get', 'tasks', '-n', STACK, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: TaskJson[] }).items;
  };
  const exec = async (task: string, args: string[]): Promise<string> => {
    const r = await c().cli(['exec', '-n', STACK, task, '--', ...args]);
    assert.equal(r.code, 0, `exec ${args.join(' ')} in ${task}: ${r.stderr}`);
    return r.stdout;
  };
  const runningOne = async (service: string, except?: string): Promise<TaskJson> => eventually(`a running ${service} task`, 120_000, async () => running(await tasks(), service).find((t) => t.metadata.name !== except));

  it('deploys the stack: db not ready until its healthcheck passes, api held until then, then every service running', async () => {
    const deploying = c().cli(['stack', 'deploy', '-c', compose(), STACK]);
    const db = await runningOne('db');
    // The healthcheck is the readiness probe: no ready file, no readiness; the api waits for it.
    await new Promise((r) => setTimeout(r, 3_000));
    const dbNow = (await tasks()).find((t) => t.metadata.name === db.metadata.name);
    assert.equal(dbNow?.status?.ready, false, 'db is running but not ready while its healthcheck fails');
    assert.equal(running(await tasks(), 'api').length, 0, 'api waits for db to be healthy (depends_on)');
    await exec(db.metadata.name, ['sh', '-c', 'echo ok > /var/lib/db/ready && echo kept-across-tasks > /var/lib/db/greeting']);
    const r = await deploying;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secret\/db-password created/);
    assert.match(r.stdout, /volume\/db-data created/);
    for (const s of ['web', 'api', 'db', 'cache']) assert.match(r.stdout, new RegExp(`service/${s} created`));
    assert.match(r.stdout, /service\/api waiting for db \(service_healthy\), cache \(service_started\)/);
    assert.match(r.stdout, /service\/api started with 2 replicas/);
    assert.match(r.stderr, /warning: .*compose\.yaml: networks: front-tier, back-tier are not isolated/);
    let seen = '';
    const all = await eventually('every service running and ready', 120_000, async () => {
      const ts = await tasks();
      const counts = { web: running(ts, 'web').filter((t) => t.status?.ready).length, api: running(ts, 'api').filter((t) => t.status?.ready).length, db: running(ts, 'db').filter((t) => t.status?.ready).length, cache: running(ts, 'cache').length };
      seen = ts.map((t) => `${t.metadata.name} ${t.status?.state ?? '?'} ready=${String(t.status?.ready)} ${t.status?.message ?? ''}`).join('\n');
      return counts.web === 1 && counts.api === 2 && counts.db === 1 && counts.cache === 1 ? ts : undefined;
    }).catch((err: Error) => { throw new Error(`${err.message}; tasks:\n${seen}`); });
    assert.equal(all.filter((t) => t.spec.desiredState === 'running').length, 5);
  });

  it('publishes web\'s port through the routing mesh (the agent\'s nft table)', async () => {
    const svc = JSON.parse((await c().cli(['get', 'service', 'web', '-n', STACK, '-o', 'json'])).stdout) as { spec: { ports: unknown[] } };
    assert.deepEqual(svc.spec.ports, [{ port: 8080, targetPort: 8080, protocol: 'tcp', publish: PUBLISHED }]);
    let table = '';
    await eventually('the published port in the routing mesh', 30_000, async () => {
      table = (await promisify(execFile)('nft', ['-nn', 'list', 'table', 'ip', 'flotilla'])).stdout;
      return new RegExp(`(tcp|6) \\. ${PUBLISHED} : goto mesh-`).test(table) ? true : undefined;
    }).catch((err: Error) => { throw new Error(`${err.message}; table:\n${table}`); });
  });

  it('the api reads its secret and reaches web and db by their compose names', async () => {
    const api = await runningOne('api');
    assert.equal(await exec(api.metadata.name, ['cat', '/run/secrets/db_password']), 's3cr3t-from-file\n');
    const web = await eventually('web by its name from api', 60_000, async () => {
      const r = await c().cli(['exec', '-n', STACK, api.metadata.name, '--', 'timeout', '5', 'wget', '-q', '-O-', 'http://web:8080/']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(web, 'hello from the stack\n');
    const db = await eventually('db by its name from api', 60_000, async () => {
      const r = await c().cli(['exec', '-n', STACK, api.metadata.name, '--', 'timeout', '5', 'wget', '-q', '-O-', 'http://db:5432/greeting']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(db, 'kept-across-tasks\n');
  });

  it('the named volume survives a task replacement (kill -9 of the db task)', async () => {
    const db = await runningOne('db');
    process.kill(db.status?.pid as number, 'SIGKILL');
    const next = await runningOne('db', db.metadata.name);
    assert.equal(await exec(next.metadata.name, ['cat', '/var/lib/db/greeting']), 'kept-across-tasks\n');
    await eventually('the replacement db ready (its ready file is in the volume)', 60_000, async () => (await tasks()).find((t) => t.metadata.name === next.metadata.name && t.status?.ready === true));
  });

  it('a second deploy is unchanged; a changed file updates in place; --prune removes what left the file', async () => {
    const again = await c().cli(['stack', 'deploy', '-c', compose(), STACK]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /created|configured/, again.stdout);
    assert.match(again.stdout, /service\/web unchanged/);

    await writeFile(compose(), composeFile({ webGreeting: 'bonjour', withCache: false }));
    const changed = await c().cli(['stack', 'deploy', '-c', compose(), STACK]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /service\/web configured/);
    assert.match(changed.stdout, /service\/api unchanged/);
    assert.match(changed.stdout, /service\/db unchanged/);
    assert.match(changed.stdout, /service\/cache kept: not in .*compose\.yaml \(stack deploy --prune deletes it\)/);
    const ls = await c().cli(['stack', 'ls']);
    assert.match(ls.stdout, /^shop\s+4\s+6\s+shop$/m, ls.stdout);

    const pruned = await c().cli(['stack', 'deploy', '--prune', '-c', compose(), STACK]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /service\/cache deleted/);
    const svcs = await c().cli(['stack', 'services', STACK]);
    assert.equal(svcs.code, 0, svcs.stderr);
    assert.deepEqual(svcs.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]).sort(), ['api', 'db', 'web']);
    await eventually('web updated in place (new env in its tasks)', 120_000, async () => {
      const ws = running(await tasks(), 'web');
      if (ws.length !== 1) return undefined;
      const envs = await Promise.all(ws.map(async (t) => c().cli(['exec', '-n', STACK, t.metadata.name, '--', 'sh', '-c', 'echo $GREETING'])));
      return envs.every((e) => e.stdout === 'bonjour\n') ? true : undefined;
    });
  });

  it('a stack the server refuses (a published port another stack holds) creates nothing at all', async () => {
    const other = path.join(dir, 'other.yaml');
    await writeFile(other, `services:
  fine:
    image: \${STACK_E2E_IMAGE}
    secrets: [token]
  clash:
    image: \${STACK_E2E_IMAGE}
    ports: ["${PUBLISHED}:8080"]
secrets:
  token: {file: ./db_password.txt}
volumes:
  unused:
`);
    const r = await c().cli(['stack', 'deploy', '-c', other, 'other']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`other\\.yaml, line 7: services\\.clash\\.ports: expected a port no other service publishes.*found ${PUBLISHED}/tcp \\(published by service shop/web\\)`), r.stderr);
    for (const kind of ['services', 'secrets', 'volumes']) {
      const left = await c().cli(['get', kind, '-n', 'other', '-o', 'json']);
      assert.deepEqual((JSON.parse(left.stdout) as { items: unknown[] }).items, [], `no ${kind} of the refused stack`);
    }
  });

  it('stack rm removes exactly what the stack created: no object, task or container left', async () => {
    const r = await c().cli(['stack', 'rm', STACK]);
    assert.equal(r.code, 0, r.stderr);
    for (const o of ['service/web', 'service/api', 'service/db', 'secret/db-password', 'volume/db-data']) assert.match(r.stdout, new RegExp(`${o} deleted`));
    for (const kind of ['services', 'secrets', 'configs', 'volumes']) {
      const left = await c().cli(['get', kind, '-n', STACK, '-o', 'json']);
      assert.deepEqual((JSON.parse(left.stdout) as { items: unknown[] }).items, [], `no ${kind} left`);
    }
    await eventually('no task and no container left', 120_000, async () => ((await tasks()).length === 0 && (await c().containers()).length === 0 ? true : undefined));
    const ls = await c().cli(['stack', 'ls']);
    assert.match(ls.stderr, /No stacks found/);
  });
});
