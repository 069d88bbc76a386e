/**
 * First contact below the e2e test: which server URLs are reachable (a specific host, a
 * wildcard with interface addresses, loopback last), the join-token route's `servers`, the
 * agent's local address towards the server, the server certificate for 0.0.0.0 naming the
 * interface addresses (no test listens on 0.0.0.0 outside a test namespace: first-contact e2e does), the `flotilla agent ...` line, and the conditions a Node registers with.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { localAddressTo } from '../../src/agent/node/local-address.js';
import { registerNode, RUNTIME_READY_ASSUMED, type NodeApi } from '../../src/agent/node/registration.js';
import type { NodeObject } from '../../src/api/kinds.js';
import type { ApiObject } from '../../src/api/object.js';
import { joinCommand } from '../../src/cli/commands/process.js';
import { interfaceAddresses, isLoopback, reachableUrls, unmapIpv4, type InterfaceTable } from '../../src/server/reachable.js';
import { ClusterPki } from '../../src/server/pki/index.js';
import { startTestServer } from './helpers.js';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false): NonNullable<InterfaceTable[string]>[number] =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NonNullable<InterfaceTable[string]>[number];
const TABLE: InterfaceTable = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6'), iface('192.0.2.10', 'IPv4')],
  eth1: [iface('198.51.100.7', 'IPv4')],
};

describe('reachable addresses', { timeout: 30_000 }, () => {
  it('interface addresses: no loopback, no link-local, IPv4 first', () => {
    assert.deepEqual(interfaceAddresses(TABLE), ['192.0.2.10', '198.51.100.7', '2001:db8::5']);
  });
  it('a specific listen host is the one URL', () => {
    assert.deepEqual(reachableUrls('10.1.2.3', '10.1.2.3', 6443, TABLE), ['https://10.1.2.3:6443']);
    assert.deepEqual(reachableUrls('::1', '::1', 6443, TABLE), ['https://[::1]:6443']);
  });
  it('a wildcard: the address the client reached first, then the interfaces; loopback only when alone', () => {
    assert.deepEqual(reachableUrls('0.0.0.0', '::ffff:198.51.100.7', 6443, TABLE), ['https://198.51.100.7:6443', 'https://192.0.2.10:6443', 'https://[2001:db8::5]:6443']);
    assert.deepEqual(reachableUrls('::', '127.0.0.1', 1, TABLE)[0], 'https://192.0.2.10:1');
    assert.deepEqual(reachableUrls('0.0.0.0', '127.0.0.1', 1, { lo: TABLE.lo ?? [] }), ['https://127.0.0.1:1']);
  });
  it('helpers', () => {
    assert.equal(unmapIpv4('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(isLoopback('127.3.0.1'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    assert.equal(joinCommand('https://10.0.0.1:6443', 'FLT1-x'), 'flotilla agent --server https://10.0.0.1:6443 --token FLT1-x');
  });
});

describe('server side', { timeout: 60_000 }, () => {
  it('the join token answer carries the servers a machine can join at', async () => {
    const ts = await startTestServer();
    try {
      const t = await ts.client.createJoinToken('worker', 60);
      assert.deepEqual(t.servers, [ts.server.url], 'a server on 127.0.0.1 has only that URL');
      const local = await localAddressTo({ server: ts.server.url, caPem: ts.server.pki.caCertPem });
      assert.equal(local, '127.0.0.1');
    } finally {
      await ts.cleanup();
    }
  });
  it('on 0.0.0.0 the certificate names the interface addresses (a wildcard listen host)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pki-wildcard-'));
    try {
      const pki = await ClusterPki.loadOrCreate(dir, { extraSans: ['0.0.0.0'] });
      const cert = new X509Certificate(pki.serverCertPem);
      for (const a of interfaceAddresses()) assert.equal(cert.checkIP(a), a, `${a} in ${cert.subjectAltName ?? ''}`);
      const again = await ClusterPki.loadOrCreate(dir, { extraSans: ['0.0.0.0'] });
      assert.equal(again.serverCertPem, pki.serverCertPem, 'reused at the next start while the addresses are the same');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the agent cannot find its address when the server is not there', async () => {
    await assert.rejects(localAddressTo({ server: 'https://127.0.0.1:1', caPem: '', timeoutMs: 2_000 }), /cannot reach https:\/\/127\.0\.0\.1:1/);
  });
});

describe('node conditions at registration', { timeout: 30_000 }, () => {
  const api = (): NodeApi & { last?: ApiObject } => {
    const a: NodeApi & { last?: ApiObject } = {
      get: () => Promise.resolve(a.last),
      create: (o) => { a.last = { ...o, metadata: { ...o.metadata, revision: 1 } }; return Promise.resolve(a.last); },
      updateStatus: (o) => { a.last = o; return Promise.resolve(o); },
    };
    return a;
  };
  it('a node without a runtime check (hollow) reports RuntimeReady true', async () => {
    const n = await registerNode(api(), { name: 'h1', labels: {} }, 't');
    assert.deepEqual(n.status?.conditions, [RUNTIME_READY_ASSUMED]);
    assert.equal(RUNTIME_READY_ASSUMED.status, true);
  });
  it('the real agent reports what its check says', async () => {
    const cond = { type: 'RuntimeReady', status: false, reason: 'RuncMissing', message: 'runc not found' };
    const n: NodeObject = await registerNode(api(), { name: 'n1', labels: {}, conditions: () => [cond] }, 't');
    assert.deepEqual(n.status?.conditions, [cond]);
  });
});
