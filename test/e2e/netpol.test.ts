/**
 * Network policies on three real nodes (test/helpers/cluster.ts): services web and api (one
 * task per node, clients) and db (one task on node2: httpd on 8080, nc on 9000, a VIP and a
 * published port). The policy "db accepts from api only" (ports 8080, 9000): web cannot reach
 * db from db's own node (bridged) nor from another node, by task address nor VIP, nor does an
 * outside client through the published port; api can; a web->db nc session opened before the
 * policy keeps flowing; `describe` shows the selected task and the peers; deleting the policy
 * gives web its access back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually, namespacesLeft, type TaskJson } from '../helpers/cluster.js';

const PUBLISH = 30_000 + Math.floor(Math.random() * 2_000);
const DB_CMD = '["sh", "-c", "mkdir -p /tmp/www && echo db > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && sleep 3600 | nc -l -p 9000 > /tmp/got"]';
const POLICY = `kind: NetworkPolicy
metadata: {name: db-from-api}
spec:
  selector: {services: [db]}
  ingress:
    - from: [{service: api}]
      ports: [8080, 9000]
`;

describe('network policies on 3 nodes', { timeout: 600_000 }, () => {
  let c: Cluster;
  let db: TaskJson;
  let vip = '';
  const web = new Map<string, TaskJson>();
  const api = new Map<string, TaskJson>();

  /** HTTP GET from inside a task: the body, or FAIL. */
  async function get(task: TaskJson, url: string): Promise<string> {
    const r = await c.cli(['exec', task.metadata.name, '--', 'sh', '-c', `timeout 5 wget -q -O- ${url} 2>/dev/null || echo FAIL`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  /** What every client sees of db: `web@node2 ip: db`, ... */
  async function matrix(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const dbIp = db.status?.ip ?? '';
    for (const [who, tasks] of [['web', web], ['api', api]] as const) {
      for (const node of ['node1', 'node2']) {
        const t = tasks.get(node) as TaskJson;
        out[`${who}@${node} ip`] = await get(t, `http://${dbIp}:8080/`);
        out[`${who}@${node} vip`] = await get(t, `http://${vip}:80/`);
      }
    }
    return out;
  }

  /** Lines db's nc listener has received so far. */
  async function received(): Promise<number> {
    const r = await c.cli(['exec', db.metadata.name, '--', 'cat', '/tmp/got']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '').length;
  }

  before(async () => {
    c = await Cluster.start({ nodes: 3 });
    const image = (await c.buildImage('test/netpol', '1')).ref;
    const client = (name: string): string => `kind: Service
metadata: {name: ${name}, labels: {role: ${name}}}
spec:
  image: ${image}
  mode: global
  command: ["sh", "-c", "mkdir -p /tmp/www && echo ${name} > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
`;
    await c.apply(`${client('web')}---
${client('api')}---
kind: Service
metadata: {name: db}
spec:
  image: ${image}
  replicas: 1
  command: ${DB_CMD}
  ports: [{port: 80, targetPort: 8080, publish: ${PUBLISH}}]
  placement: {constraints: ["node.labels.node == node2"]}
  probes:
    readiness: {http: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 2}
`);
    for (const t of await c.runningTasks('web', 3)) web.set(t.spec.node, t);
    for (const t of await c.runningTasks('api', 3)) api.set(t.spec.node, t);
    db = (await c.runningTasks('db', 1))[0] as TaskJson;
    vip = await eventually('the VIP of db', 30_000, async () => {
      const svc = JSON.parse((await c.cli(['get', 'service', 'db', '-o', 'json'])).stdout) as { status?: { vip?: string } };
      return svc.status?.vip;
    });
  });

  after(async () => {
    const names = c?.namespaceNames() ?? [];
    if (c !== undefined) {
      await c.removeLoadBalancers();
      await c.stop();
    }
    assert.deepEqual(namespacesLeft(names), []);
  });

  it('without a policy every client reaches db; a web->db nc session is opened', async () => {
    const m = await eventually('db answering everyone', 30_000, async () => {
      const x = await matrix();
      return Object.values(x).every((v) => v === 'db') ? x : undefined;
    });
    console.log(`open: ${JSON.stringify(m)}`);
    const w1 = web.get('node1') as TaskJson;
    const feed = `(i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done | nc ${db.status?.ip ?? ''} 9000) >/dev/null 2>&1 &`;
    const r = await c.cli(['exec', w1.metadata.name, '--', 'sh', '-c', feed]);
    assert.equal(r.code, 0, r.stderr);
    await eventually('the nc session flowing', 20_000, async () => ((await received()) >= 3 ? true : undefined));
  });

  it('with "db accepts from api only": web is refused (same node, other node, ip, VIP, published port), api is not', async () => {
    await c.apply(POLICY);
    const m = await eventually('the policy enforced', 30_000, async () => {
      const x = await matrix();
      return x['web@node1 ip'] === 'FAIL' && x['web@node2 ip'] === 'FAIL' ? x : undefined;
    });
    assert.deepEqual(m, {
      'web@node1 ip': 'FAIL', 'web@node1 vip': 'FAIL', 'web@node2 ip': 'FAIL', 'web@node2 vip': 'FAIL',
      'api@node1 ip': 'db', 'api@node1 vip': 'db', 'api@node2 ip': 'db', 'api@node2 vip': 'db',
    }, c.logs());
    for (const n of c.nodes) {
      const r = await c.exec('server', ['/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O-', `http://${n.address}:${PUBLISH}/`]);
      assert.notEqual(r.code, 0, `published port on ${n.name} answered: ${r.stdout}`);
    }
    // The node's readiness probe of db still passes (probes come from the node, not a task).
    await new Promise((r) => setTimeout(r, 4_000));
    const dbNow = (await c.tasks('db')).find((t) => t.metadata.name === db.metadata.name);
    assert.equal(dbNow?.status?.ready, true, JSON.stringify(dbNow?.status));
    const table = await c.exec('node1', ['nft', 'list', 'table', 'ip', 'flotilla-netpol']);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(table.stdout.includes(db.status?.ip ?? 'x'), table.stdout);
  });

  it('keeps the web->db session opened before the policy flowing', async () => {
    const before = await received();
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await received();
    assert.ok(after >= before + 5, `received ${before} then ${after}`);
  });

  it('describe lists the selected task and the peers; get lists the policy', async () => {
    const d = await c.cli(['describe', 'networkpolicy', 'db-from-api']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Selected tasks \(1\):/);
    assert.match(d.stdout, new RegExp(`${db.metadata.name}\\s+node2\\s+${(db.status?.ip ?? '').replace(/\./g, '\\.')}`));
    assert.match(d.stdout, /rule 1: ports 8080, 9000/);
    for (const t of api.values()) assert.ok(d.stdout.includes(t.status?.ip ?? 'x'), d.stdout);
    const g = await c.cli(['get', 'networkpolicies']);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /db-from-api/);
  });

  it('deleting the policy gives web its access back', async () => {
    const r = await c.cli(['delete', 'networkpolicy', 'db-from-api']);
    assert.equal(r.code, 0, r.stderr);
    const m = await eventually('web reaching db again', 30_000, async () => {
      const x = await matrix();
      return Object.values(x).every((v) => v === 'db') ? x : undefined;
    });
    assert.ok(m);
    const p = await c.exec('server', ['/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O-', `http://${c.nodes[0]?.address ?? ''}:${PUBLISH}/`]);
    assert.equal(p.stdout.trim(), 'db', p.stderr);
  });

  it('egress: web may reach only api; DNS to the node still answers', async () => {
    await c.apply(`kind: NetworkPolicy
metadata: {name: web-out}
spec:
  selector: {services: [web]}
  egress:
    - to: [{service: api}]
      ports: [8080]
`);
    const w1 = web.get('node1') as TaskJson;
    const a2 = api.get('node2') as TaskJson;
    await eventually('web egress restricted', 30_000, async () => ((await get(w1, `http://${db.status?.ip ?? ''}:8080/`)) === 'FAIL' ? true : undefined));
    assert.equal(await get(w1, `http://${vip}:80/`), 'FAIL');
    assert.equal(await get(w1, `http://${a2.status?.ip ?? ''}:8080/`), 'api');
    assert.equal(await get(api.get('node1') as TaskJson, `http://${db.status?.ip ?? ''}:8080/`), 'db', 'api is not restricted');
    const ns = await c.cli(['exec', w1.metadata.name, '--', '/bin/busybox', 'nslookup', '-type=a', 'db'], { timeoutMs: 30_000 });
    assert.ok(ns.stdout.includes(vip), `nslookup: ${ns.stdout} ${ns.stderr}`);
    assert.equal((await c.cli(['delete', 'networkpolicy', 'web-out'])).code, 0);
    await eventually('web egress open again', 30_000, async () => ((await get(w1, `http://${db.status?.ip ?? ''}:8080/`)) === 'db' ? true : undefined));
  });
});
