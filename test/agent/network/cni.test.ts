/**
 * The CNI runner: the spec's calling convention checked with hand-written fake plugins (shell
 * scripts that log what they were given), then a real bridge + portmap chain inside a test node
 * namespace.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError } from '../../../src/api/errors.js';
import {
  addNetworkList, addressOf, CniError, CniInvoker, delNetworkList, negotiateVersion, pluginConfig, type CniNetworkList, type CniResult,
} from '../../../src/agent/network/cni.js';
import { NamedNetns } from '../../../src/agent/network/netns.js';
import { NodeNamespace, run, uniqueNetnsName } from '../../helpers/netns.js';

interface Call {
  plugin: string;
  cmd: string;
  cid: string;
  netns: string;
  ifname: string;
  path: string;
  args: string;
  leaked: string;
  conf: Record<string, unknown>;
}

describe('CNI runner with fake plugins', { timeout: 30_000 }, () => {
  let dir: string;
  let log: string;
  const calls = (): Call[] => readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Call);

  /** A plugin that logs its call, then runs `body` (sh) for the given command. */
  function plugin(name: string, bodies: Partial<Record<'ADD' | 'DEL' | 'CHECK' | 'VERSION', string>>): void {
    const cases = Object.entries(bodies).map(([cmd, body]) => `  ${cmd}) ${body} ;;`).join('\n');
    writeFileSync(join(dir, name), `#!/bin/sh
in=$(cat)
printf '{"plugin":"%s","cmd":"%s","cid":"%s","netns":"%s","ifname":"%s","path":"%s","args":"%s","leaked":"%s","conf":%s}\\n' \\
  "${name}" "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_PATH" "$CNI_ARGS" "$FLOTILLA_TEST_LEAK" "$in" >> ${log}
case "$CNI_COMMAND" in
${cases}
esac
`);
    chmodSync(join(dir, name), 0o755);
  }
  const addOk = (n: number): string => `echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"'"$CNI_NETNS"'"}],"ips":[{"address":"10.1.2.${n}/24","interface":0}],"x-by":"p${n}"}'`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flt-cni-'));
    log = join(dir, 'calls.log');
    process.env.FLOTILLA_TEST_LEAK = 'the agent environment';
    plugin('first', { ADD: addOk(1), DEL: 'true', CHECK: 'true', VERSION: `echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'` });
    plugin('second', { ADD: addOk(2), DEL: `echo '{"code":7,"msg":"second cannot","details":"why"}'; exit 1`, VERSION: `echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0"]}'` });
    plugin('busy', { ADD: `echo '{"code":11,"msg":"try later"}'; exit 1`, DEL: 'true' });
    plugin('crash', { ADD: `echo 'panic: nil map' >&2; exit 2` });
    plugin('slow', { ADD: 'exec sleep 5' });
  });
  after(() => {
    delete process.env.FLOTILLA_TEST_LEAK;
    rmSync(dir, { recursive: true, force: true });
  });

  const rt = { containerId: 'c1', netns: '/var/run/netns/x', ifName: 'eth0', args: { K8S_POD_NAME: 'p' }, capabilityArgs: { portMappings: [{ hostPort: 1 }], bandwidth: {} } };
  const list = (...types: string[]): CniNetworkList => ({
    cniVersion: '1.0.0', name: 'net', plugins: types.map((type) => ({ type, capabilities: type === 'second' ? { portMappings: true } : undefined, own: type })),
  });

  it('passes the spec environment and chains prevResult through ADD', async () => {
    writeFileSync(log, '');
    const inv = new CniInvoker({ cniPath: ['/nonexistent', dir] });
    const result = await addNetworkList(inv, list('first', 'second'), rt);
    assert.equal(addressOf(result, 'eth0'), '10.1.2.2');
    const [c1, c2] = calls();
    assert.deepEqual({ ...c1, conf: undefined }, {
      plugin: 'first', cmd: 'ADD', cid: 'c1', netns: '/var/run/netns/x', ifname: 'eth0', path: `/nonexistent:${dir}`, args: 'K8S_POD_NAME=p', leaked: '', conf: undefined,
    });
    assert.deepEqual(c1?.conf, { type: 'first', own: 'first', name: 'net', cniVersion: '1.0.0' });
    assert.equal((c2?.conf.prevResult as CniResult)['x-by'], 'p1');
    assert.deepEqual(c2?.conf.runtimeConfig, { portMappings: [{ hostPort: 1 }] }, 'only declared capabilities');
    assert.equal(c2?.conf.capabilities, undefined);
  });

  it('runs DEL in reverse order with the cached result, goes on after a failure and reports the first', async () => {
    writeFileSync(log, '');
    const inv = new CniInvoker({ cniPath: [dir] });
    const cached = { cniVersion: '1.0.0', ips: [{ address: '10.1.2.2/24' }] };
    const err = await delNetworkList(inv, list('first', 'second'), rt, cached).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CniError);
    assert.deepEqual([err.plugin, err.command, err.cniCode, err.msg, err.details, err.retryable], ['second', 'DEL', 7, 'second cannot', 'why', false]);
    assert.deepEqual(calls().map((c) => `${c.plugin} ${c.cmd}`), ['second DEL', 'first DEL']);
    assert.deepEqual(calls().map((c) => c.conf.prevResult), [cached, cached]);
  });

  it('turns plugin failures into typed errors and cleans up after a failed ADD', async () => {
    writeFileSync(log, '');
    const inv = new CniInvoker({ cniPath: [dir], timeoutMs: 300 });
    const busy = await addNetworkList(inv, list('first', 'busy'), rt).then(() => undefined, (e: unknown) => e);
    assert.ok(busy instanceof CniError && busy.retryable && busy.cniCode === 11 && busy.msg === 'try later');
    assert.deepEqual(calls().map((c) => `${c.plugin} ${c.cmd}`), ['first ADD', 'busy ADD', 'busy DEL', 'first DEL']);
    const crash = await inv.exec('crash', 'ADD', rt, {}).then(() => undefined, (e: unknown) => e);
    assert.ok(crash instanceof CniError && crash.cniCode === -1 && crash.msg.includes('panic: nil map'));
    const started = Date.now();
    const slow = await inv.exec('slow', 'ADD', rt, {}).then(() => undefined, (e: unknown) => e);
    assert.ok(slow instanceof CniError && slow.msg.includes('timed out'), String(slow));
    assert.ok(Date.now() - started < 3000);
    assert.throws(() => inv.findPlugin('missing'), NotFoundError);
    assert.throws(() => inv.findPlugin('../bin/sh'), NotFoundError);
  });

  it('negotiates the highest version every plugin supports', async () => {
    assert.equal(await negotiateVersion(new CniInvoker({ cniPath: [dir] }), ['first', 'second']), '0.4.0');
    assert.equal(await negotiateVersion(new CniInvoker(), ['bridge', 'host-local', 'loopback', 'portmap']), '1.0.0');
  });

  it('derives plugin configs without capabilities the plugin did not declare', () => {
    const conf = pluginConfig(list('first'), { type: 'first', capabilities: { bandwidth: false } }, rt, undefined);
    assert.deepEqual(conf, { type: 'first', name: 'net', cniVersion: '1.0.0' });
  });
});

describe('CNI runner with the real bridge + portmap chain', { timeout: 30_000 }, () => {
  let node: NodeNamespace;
  let dataDir: string;
  const netns = new NamedNetns();
  const tasks = [uniqueNetnsName('ta'), uniqueNetnsName('tb')];

  before(async () => {
    node = await NodeNamespace.create('pm');
    dataDir = mkdtempSync(join(tmpdir(), 'flt-cni-pm-'));
    for (const t of tasks) {
      node.adopt(t);
      await netns.ensure(t);
    }
  });
  after(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('publishes a host port to a task, and DEL removes the rules (twice is fine)', async () => {
    const inv = new CniInvoker({ prefix: node.prefix });
    const chain: CniNetworkList = {
      cniVersion: '1.0.0',
      name: 'pmtest',
      plugins: [
        { type: 'bridge', bridge: 'pm0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.44.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    };
    const hostPort = 30_000 + Math.floor(Math.random() * 20_000);
    const rtA = { containerId: 'pm-a', netns: netns.pathOf(tasks[0] ?? ''), ifName: 'eth0', capabilityArgs: { portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }] } };
    const rtB = { containerId: 'pm-b', netns: netns.pathOf(tasks[1] ?? ''), ifName: 'eth0' };
    const resA = await addNetworkList(inv, chain, rtA);
    await addNetworkList(inv, chain, rtB);
    assert.match((await node.run(['iptables', '-t', 'nat', '-S'])).stdout, new RegExp(`--dport ${hostPort} .*-j DNAT --to-destination ${addressOf(resA, 'eth0')}:8080`));

    const www = join(dataDir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'published\n');
    node.spawn(['busybox', 'httpd', '-f', '-p', '8080', '-h', www], tasks[0]);
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      body = (await run(['ip', 'netns', 'exec', tasks[1] ?? '', 'timeout', '3', 'busybox', 'wget', '-q', '-O', '-', `http://10.44.0.1:${hostPort}/`], 5_000)).stdout;
      if (body === '') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(body, 'published\n', 'task b reaches task a through the node\'s published port');

    await delNetworkList(inv, chain, rtA, resA);
    await delNetworkList(inv, chain, rtA, resA);
    await delNetworkList(inv, chain, { ...rtA, netns: '' });
    assert.doesNotMatch((await node.run(['iptables', '-t', 'nat', '-S'])).stdout, new RegExp(`--dport ${hostPort}`));
    assert.equal((await run(['ip', '-n', tasks[0] ?? '', 'link', 'show', 'eth0'])).code !== 0, true, 'eth0 of task a is gone');
  });
});
