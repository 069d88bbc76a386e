/**
 * Issue "Node agent", as a new user would: `flotilla up`, a service of busybox httpd from a
 * local registry, isolated containers with limits, self-healing after kill -9, scale, adoption
 * after a hard restart of `up`, errors that a person understands, and nothing left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, flotilla, manifestFile, UpCluster, type TaskJson } from '../helpers/flotilla.js';

function service(name: string, image: string, extra: string): string {
  return `kind: Service
metadata:
  name: ${name}
spec:
  image: ${image}
${extra}`;
}

const running = (ts: TaskJson[]): TaskJson[] => ts.filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running');

describe('flotilla up: real containers from a real registry', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let cluster: UpCluster;
  let image: string;

  before(async () => {
    registry = await startRegistry();
    image = (await buildBusyboxImage(registry.host, 'demo/busybox', '1', { files: { 'www/index.html': 'hello from flotilla\n' } })).ref;
    cluster = await UpCluster.start();
  });

  after(async () => {
    await cluster?.stop();
    await registry?.stop();
  });

  it('runs 3 isolated replicas with their memory limit, reachable on the task network', async () => {
    const file = await manifestFile(cluster.dataDir, 'web.yaml', service('web', image, `  replicas: 3
  command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
  ports: [{port: 80, targetPort: 8080}]
  resources:
    limits: {memory: 64Mi, cpu: 500m}`));
    const r = await cluster.cli(['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /service\/web created/);
    const tasks = await eventually('3 running tasks', 60_000, async () => {
      const ts = running(await cluster.tasks('web'));
      return ts.length === 3 ? ts : undefined;
    });
    const hostPidNs = readlinkSync('/proc/self/ns/pid');
    for (const t of tasks) {
      const pid = t.status?.pid as number;
      assert.ok(pid > 0, 'status.pid set');
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), hostPidNs, 'own pid namespace');
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l));
      assert.ok(cg !== undefined, 'in a memory cgroup');
      const limitFile = `/sys/fs/cgroup/memory${cg.split(':')[2]}/memory.limit_in_bytes`;
      if (existsSync(limitFile)) assert.equal(readFileSync(limitFile, 'utf8').trim(), String(64 * 1024 * 1024));
      assert.match(t.status?.ip ?? '', /^10\./);
    }
    const ip = tasks[0]?.status?.ip as string;
    const body = await eventually('httpd answers', 10_000, async () => (await fetch(`http://${ip}:8080/index.html`)).text());
    assert.equal(body, 'hello from flotilla\n');
    const svc = JSON.parse((await cluster.cli(['get', 'service', 'web', '-o', 'json'])).stdout) as { status?: { vip?: string } };
    const vip = svc.status?.vip;
    assert.match(vip ?? '', /^10\.96\./, 'the service has a virtual IP');
    const viaVip = await eventually('the VIP answers', 15_000, async () => (await fetch(`http://${vip}:80/index.html`, { signal: AbortSignal.timeout(2_000) })).text());
    assert.equal(viaVip, 'hello from flotilla\n');
  });

  it('replaces a container whose process was killed with kill -9', async () => {
    const before = running(await cluster.tasks('web'));
    const victim = before[0] as TaskJson;
    process.kill(victim.status?.pid as number, 'SIGKILL');
    await eventually('the killed task reported failed and a replacement running', 60_000, async () => {
      const ts = await cluster.tasks('web');
      const dead = ts.find((t) => t.metadata.name === victim.metadata.name);
      const live = running(ts);
      return dead?.status?.state === 'failed' && live.length === 3 && !live.some((t) => t.metadata.name === victim.metadata.name) ? true : undefined;
    });
  });

  it('scales to 5 and to 1', async () => {
    assert.equal((await cluster.cli(['scale', 'service', 'web', '--replicas', '5'])).code, 0);
    await eventually('5 running', 60_000, async () => (running(await cluster.tasks('web')).length === 5 ? true : undefined));
    assert.equal((await cluster.cli(['scale', 'service', 'web', '--replicas', '1'])).code, 0);
    await eventually('1 running and 1 container', 60_000, async () => {
      const ts = await cluster.tasks('web');
      const stopping = ts.filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'shutdown');
      return running(ts).length === 1 && stopping.length === 0 && (await cluster.containers()).length === 1 ? true : undefined;
    });
  });

  it('adopts its running containers after kill -9 of `flotilla up` (no duplicates)', async () => {
    const before = running(await cluster.tasks('web'));
    assert.equal(before.length, 1);
    await cluster.restartHard();
    await new Promise((r) => setTimeout(r, 3_000));
    const after = running(await cluster.tasks('web'));
    assert.equal(after.length, 1);
    assert.equal(after[0]?.metadata.name, before[0]?.metadata.name, 'the same task still runs');
    assert.equal(after[0]?.status?.pid, before[0]?.status?.pid, 'the same process');
    assert.equal((await cluster.containers()).length, 1);
  });

  it('reports an OOM kill, a missing tag and a missing command in the task status', async () => {
    const file = await manifestFile(cluster.dataDir, 'bad.yaml', [
      service('hog', image, `  command: ["sh", "-c", "head -c 200m /dev/zero | tail"]
  restart: {condition: none}
  resources:
    limits: {memory: 16Mi}`),
      service('notag', `${registry.host}/demo/busybox:nope`, '  restart: {condition: none}'),
      service('nocmd', image, `  command: ["/no/such/binary"]
  restart: {condition: none}`),
    ].join('\n---\n'));
    assert.equal((await cluster.cli(['apply', '-f', file])).code, 0);
    const msg = async (svc: string, state: string): Promise<string | undefined> => {
      const t = (await cluster.tasks(svc)).find((x) => x.status?.state === state);
      return t?.status?.message;
    };
    assert.match(await eventually('hog OOM-killed', 60_000, () => msg('hog', 'failed')), /OOM/);
    assert.match(await eventually('notag rejected', 60_000, () => msg('notag', 'rejected')), /nope|not found|unknown/i);
    assert.match(await eventually('nocmd failed', 60_000, async () => (await msg('nocmd', 'failed')) ?? (await msg('nocmd', 'rejected'))), /no such|not found|executable/i);
    for (const s of ['hog', 'notag', 'nocmd']) assert.equal((await cluster.cli(['delete', 'service', s])).code, 0);
  });

  it('refuses to join with a bad token, saying why', async () => {
    const url = cluster.proc.url;
    const malformed = await flotilla(['agent', '--server', url, '--token', 'nonsense', '--data-dir', `${cluster.dataDir}/bad1`, '--name', 'intruder']);
    assert.notEqual(malformed.code, 0);
    assert.match(malformed.stderr, /malformed join token/);
    const ca = JSON.parse(await readFile(cluster.config, 'utf8')) as { ca: string };
    const { createHash, X509Certificate } = await import('node:crypto');
    const fp = createHash('sha256').update(new X509Certificate(ca.ca).raw).digest('hex');
    const wrong = await flotilla(['agent', '--server', url, '--token', `FLT1-${fp}-abcdef.${'x'.repeat(32)}`, '--data-dir', `${cluster.dataDir}/bad2`, '--name', 'intruder']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unknown or was revoked/);
    const otherCluster = await flotilla(['agent', '--server', url, '--token', `FLT1-${'0'.repeat(64)}-abcdef.${'x'.repeat(32)}`, '--data-dir', `${cluster.dataDir}/bad3`, '--name', 'intruder']);
    assert.notEqual(otherCluster.code, 0);
    assert.match(otherCluster.stderr, /not the cluster this token is for/);
    const nodes = await cluster.cli(['get', 'nodes', '-o', 'json']);
    assert.ok(!nodes.stdout.includes('intruder'));
  });

  it('leaves no container, mount or cgroup when the service is deleted', async () => {
    const ids = (await cluster.tasks('web')).map((t) => `default_${t.metadata.name}`);
    assert.equal((await cluster.cli(['delete', 'service', 'web'])).code, 0);
    try {
      await eventually('no tasks and no containers', 60_000, async () => ((await cluster.tasks()).length === 0 && (await cluster.containers()).length === 0 ? true : undefined));
    } catch (err) {
      console.error(JSON.stringify(await cluster.tasks(), null, 1), await cluster.containers(), cluster.proc.output.slice(-3000));
      throw err;
    }
    const mounts = readFileSync('/proc/mounts', 'utf8');
    assert.ok(!mounts.includes(cluster.dataDir), 'no mount under the data dir');
    for (const id of ids) assert.ok(!existsSync(`/sys/fs/cgroup/memory/flotilla/${id}`), `no cgroup for ${id}`);
  });
});
