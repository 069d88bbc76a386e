/**
 * The network hook with real CNI plugins and real namespaces. Every test runs the plugins inside
 * its own "node" namespace (execPrefix = `ip netns exec NODE`), so the bridge, the veths and
 * ip_forward never touch the machine's own network; everything is removed afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Task } from '../../../src/api/kinds.js';
import { CniError } from '../../../src/agent/network/cni.js';
import { netnsNameOf, TaskNetwork, type TaskNetworkOptions } from '../../../src/agent/network/task-network.js';
import { netnsList, NodeNamespace, run } from '../../helpers/netns.js';

const TEST_TIMEOUT_MS = 60_000;
/** Every task namespace name a test asked for: none may exist at the end. */
const taskNamespaces = new Set<string>();

/** The hook reads only the name (and the port mappings when asked): a minimal task will do. */
function taskNamed(name: string): Task {
  return { kind: 'Task', metadata: { name, namespace: 'default' } } as unknown as Task; // only metadata is read
}

interface Fixture {
  node: NodeNamespace;
  dataDir: string;
  make(extra?: Partial<TaskNetworkOptions>): TaskNetwork;
  /** A fresh container id whose namespace the node deletes at the end whatever happens. */
  id(label: string): string;
}

async function fixture(t: TestContext, opts: Partial<TaskNetworkOptions> = {}): Promise<Fixture> {
  const node = await NodeNamespace.create('node');
  const dataDir = mkdtempSync(join(tmpdir(), 'flt-net-'));
  t.after(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const suffix = randomBytes(3).toString('hex');
  return {
    node,
    dataDir,
    make: (extra = {}) => new TaskNetwork({ dataDir, execPrefix: node.prefix, ...opts, ...extra }),
    id: (label) => {
      const id = `default_${label}-${suffix}`;
      node.adopt(netnsNameOf(id));
      taskNamespaces.add(netnsNameOf(id));
      return id;
    },
  };
}

/** `ip -4 -o addr` of eth0 inside a namespace. */
async function eth0Address(netns: string): Promise<string | undefined> {
  const r = await run(['ip', '-n', netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  return /inet (\S+)/.exec(r.stdout)?.[1];
}

async function rootLinks(): Promise<string[]> {
  const r = await run(['ip', '-o', 'link', 'show']);
  return r.stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? '').filter((n) => n !== '').sort();
}

describe('TaskNetwork (real CNI plugins in a test node namespace)', { timeout: TEST_TIMEOUT_MS }, () => {
  let linksBefore: string[];
  let forwardBefore: string;
  const netnsBefore = new Set(netnsList());

  before(async () => {
    linksBefore = await rootLinks();
    forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  });

  after(async () => {
    // Leave nothing behind: no namespaces of ours, no new links and the same ip_forward in the root namespace.
    const left = netnsList().filter((n) => !netnsBefore.has(n) && (n.startsWith('ftest-') || taskNamespaces.has(n)));
    assert.deepEqual(left, [], 'namespaces left behind');
    assert.deepEqual((await rootLinks()).filter((l) => !linksBefore.includes(l) && /flotilla|veth/.test(l)), []);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), forwardBefore);
  });

  it('gives two tasks distinct addresses on the subnet, and they reach each other', async (t) => {
    const f = await fixture(t);
    const net = f.make();
    const [a, b] = [f.id('web-1'), f.id('web-2')];
    const ra = await net.beforeStart(taskNamed('web-1'), a);
    const rb = await net.beforeStart(taskNamed('web-2'), b);
    assert.equal(ra.netnsPath, `/var/run/netns/${netnsNameOf(a)}`);
    assert.ok(existsSync(ra.netnsPath ?? ''));
    assert.match(ra.ip ?? '', /^10\.88\.\d+\.\d+$/);
    assert.match(rb.ip ?? '', /^10\.88\.\d+\.\d+$/);
    assert.notEqual(ra.ip, rb.ip);
    assert.equal(await eth0Address(netnsNameOf(a)), `${ra.ip}/16`);
    assert.ok(netnsNameOf(a).length <= 16);

    // The bridge lives in the node namespace, with the gateway address; ip_forward was turned on there only.
    assert.match((await f.node.run(['ip', '-4', '-o', 'addr', 'show', 'dev', 'flotilla0'])).stdout, /inet 10\.88\.0\.1\/16/);
    assert.equal((await f.node.run(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');
    assert.deepEqual(
      { before: net.nodeFacts()?.ipForwardBefore, after: net.nodeFacts()?.ipForwardAfter, enabled: net.nodeFacts()?.enabledByBridgePlugin },
      { before: '0', after: '1', enabled: true });

    // A web server in task a, a client in task b: traffic crosses the bridge between the two namespaces.
    const www = join(f.dataDir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'hello from a\n');
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    f.node.spawn(['busybox', 'httpd', '-f', '-p', `${ra.ip}:${port}`, '-h', www], netnsNameOf(a));
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      const r = await run(['ip', 'netns', 'exec', netnsNameOf(b), 'timeout', '3', 'busybox', 'wget', '-q', '-O', '-', `http://${ra.ip}:${port}/`], 5_000);
      body = r.stdout;
      if (body === '') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(body, 'hello from a\n');
    // Task b has its default route through the bridge.
    assert.match((await run(['ip', '-n', netnsNameOf(b), 'route', 'show', 'default'])).stdout, /default via 10\.88\.0\.1 dev eth0/);
  });

  it('afterStop releases the address (the next ADD reuses it) and deletes the namespace', async (t) => {
    const f = await fixture(t, { subnet: '10.77.0.0/30' }); // exactly one task address: 10.77.0.2
    const net = f.make();
    const [a, b] = [f.id('one'), f.id('two')];
    assert.equal((await net.beforeStart(taskNamed('one'), a)).ip, '10.77.0.2');

    const err = await net.beforeStart(taskNamed('two'), b).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CniError, `expected a CniError, got ${String(err)}`);
    assert.match(err.msg, /no IP addresses available/);
    assert.equal(err.retryable, false);
    assert.ok(!existsSync(`/var/run/netns/${netnsNameOf(b)}`), 'a failed ADD leaves no namespace');
    assert.equal(net.recordOf(b), undefined);

    await net.afterStop(a);
    assert.ok(!existsSync(`/var/run/netns/${netnsNameOf(a)}`));
    assert.equal(net.recordOf(a), undefined);
    assert.deepEqual(readdirSync(join(net.ipamDir, 'flotilla')).filter((n) => n.startsWith('10.')), []);
    assert.equal((await net.beforeStart(taskNamed('two'), b)).ip, '10.77.0.2');
    await net.afterStop(b);
    await net.afterStop(b); // twice: still fine
  });

  it('returns the same namespace and address after an agent restart, and repairs a broken one', async (t) => {
    const f = await fixture(t, { subnet: '10.66.0.0/24' });
    const a = f.id('api-1');
    const first = await f.make().beforeStart(taskNamed('api-1'), a);
    await f.make().beforeStart(taskNamed('filler'), f.id('filler')); // moves host-local's cursor on

    const restarted = f.make(); // a new process: nothing in memory, only the data dir
    assert.deepEqual(await restarted.beforeStart(taskNamed('api-1'), a), first);
    assert.equal(await eth0Address(netnsNameOf(a)), `${first.ip}/24`);

    // Someone removed eth0: CNI CHECK fails, the hook sets the network up again.
    await run(['ip', '-n', netnsNameOf(a), 'link', 'del', 'eth0']);
    const repaired = await restarted.beforeStart(taskNamed('api-1'), a);
    assert.equal(repaired.netnsPath, first.netnsPath);
    assert.match(repaired.ip ?? '', /^10\.66\.0\.\d+$/);
    assert.equal(await eth0Address(netnsNameOf(a)), `${repaired.ip}/24`);
  });

  it('afterStop of a container it never saw succeeds', async (t) => {
    const f = await fixture(t);
    await f.make().afterStop(f.id('never-seen'));
  });

  it('gc releases the namespaces and addresses of containers that are gone, and only those', async (t) => {
    const f = await fixture(t, { subnet: '10.55.0.0/24' });
    const net = f.make();
    const [a, b, c, d] = ['gone-1', 'live-1', 'gone-2', 'crashed'].map((l) => f.id(l)) as [string, string, string, string];
    const ips = new Map<string, string>();
    for (const id of [a, b, c, d]) ips.set(id, (await net.beforeStart(taskNamed(id), id)).ip ?? '');
    // d: the agent crashed after ADD but its record and namespace are gone: only IPAM still holds the address.
    rmSync(join(net.stateDir, 'containers', `${netnsNameOf(d)}.json`));
    await run(['ip', 'netns', 'delete', netnsNameOf(d)]);

    const report = await f.make().gc(new Set([b]));
    assert.deepEqual(report.containers.sort(), [a, c].sort());
    assert.deepEqual(report.addresses, [ips.get(d)]);
    for (const gone of [a, c, d]) assert.ok(!existsSync(`/var/run/netns/${netnsNameOf(gone)}`));
    assert.ok(existsSync(`/var/run/netns/${netnsNameOf(b)}`));
    assert.deepEqual(readdirSync(join(net.ipamDir, 'flotilla')).filter((n) => n.startsWith('10.')), [ips.get(b)]);
    assert.deepEqual(await f.make().gc(new Set([b])), { containers: [], addresses: [] });
  });
});
