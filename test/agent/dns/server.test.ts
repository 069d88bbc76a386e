/**
 * The node DNS server over real sockets on loopback, with dns-packet on both sides: cluster
 * names (VIP, ready-address fallback, tasks.*, the asking task's namespace), NODATA and
 * NXDOMAIN, forwarding to an upstream (a fake one on loopback), no upstream, a dead upstream,
 * TCP, truncation of large UDP answers, and a clean stop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsServer, nameserversOf, resolveName, resolvConfFor, type ServiceDirectory, type ServiceRecord } from '../../../src/agent/dns/index.js';

const many = Array.from({ length: 100 }, (_, i) => `10.88.9.${i + 1}`);

/** A hand-written directory: services by `ns/name`, task addresses by namespace. */
class FakeDirectory implements ServiceDirectory {
  services = new Map<string, ServiceRecord>([
    ['default/web', { vip: '10.96.0.10', ready: ['10.88.1.5', '10.88.2.5'] }],
    ['shop/cart', { ready: ['10.88.3.7'] }],
    ['default/big', { ready: many }],
  ]);
  clientNamespaces = new Map<string, string>();
  service(ns: string, name: string): ServiceRecord | undefined { return this.services.get(`${ns}/${name}`); }
  hasNamespace(ns: string): boolean { return [...this.services.keys()].some((k) => k.startsWith(`${ns}/`)); }
  namespaceOf(address: string): string | undefined { return this.clientNamespaces.get(address); }
}

function query(name: string, type: dnsPacket.RecordType = 'A', id = Math.floor(Math.random() * 65_535)): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
}

function udp(port: number, msg: Buffer, timeoutMs = 4_000): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no answer')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(dnsPacket.decode(m)); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcp(port: number, msg: Buffer): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.setTimeout(4_000, () => { s.destroy(); reject(new Error('no answer')); });
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.end();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    s.write(Buffer.concat([len, msg]));
  });
}

/** The response code (dns-packet decodes it; its typings omit the field). */
const rcodeOf = (p: dnsPacket.DecodedPacket): string => (p as { rcode?: string }).rcode ?? '';

const addrs = (p: dnsPacket.DecodedPacket): string[] => (p.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data).sort();

describe('resolveName (pure)', () => {
  const dir = new FakeDirectory();
  dir.clientNamespaces.set('10.88.3.99', 'shop');
  const table: [string, string, unknown][] = [
    ['web.default.svc', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.96.0.10'] }],
    ['WEB.Default.SVC.', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.96.0.10'] }],
    ['web.default', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.96.0.10'] }],
    ['web', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.96.0.10'] }],
    ['tasks.web', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.88.1.5', '10.88.2.5'] }],
    ['tasks.web.default.svc', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.88.1.5', '10.88.2.5'] }],
    ['cart', '10.88.3.99', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.88.3.7'] }],
    ['cart', '1.1.1.1', { type: 'forward' }],
    ['web', '10.88.3.99', { type: 'forward' }],
    ['cart.shop', '1.1.1.1', { type: 'cluster', rcode: 'NOERROR', addresses: ['10.88.3.7'] }],
    ['nothere.default.svc', '1.1.1.1', { type: 'cluster', rcode: 'NXDOMAIN', addresses: [] }],
    ['web.svc', '1.1.1.1', { type: 'cluster', rcode: 'NXDOMAIN', addresses: [] }],
    ['example.org', '1.1.1.1', { type: 'forward' }],
    ['tasks.example.org', '1.1.1.1', { type: 'forward' }],
  ];
  for (const [name, client, want] of table) {
    it(`${name} from ${client}`, () => assert.deepEqual(resolveName(name, client, dir), want));
  }
  it('resolv.conf names the server and the namespace search list', () => {
    assert.equal(resolvConfFor('10.88.1.1', 'shop'), 'nameserver 10.88.1.1\nsearch shop.svc svc\noptions ndots:1 timeout:2 attempts:2\n');
    assert.deepEqual(nameserversOf('# x\nnameserver 10.0.0.2\nsearch a\nnameserver  ::1\n'), ['10.0.0.2', '::1']);
  });
});

describe('DnsServer on loopback', { timeout: 60_000 }, () => {
  const dir = new FakeDirectory();
  let server: DnsServer;
  let upstream: dgram.Socket;
  let upstreamPort = 0;
  let forwarded = 0;

  before(async () => {
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (m, r) => {
      forwarded++;
      const q = dnsPacket.decode(m);
      const out = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions,
        answers: [{ type: 'A', name: q.questions?.[0]?.name ?? '', ttl: 300, class: 'IN', data: '192.0.2.1' }] });
      upstream.send(out, r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    upstreamPort = upstream.address().port;
    dir.clientNamespaces.set('127.0.0.1', 'default');
    server = await DnsServer.start({ host: '127.0.0.1', port: 0, directory: dir, upstreams: [`127.0.0.1:${upstreamPort}`] });
  });

  after(async () => {
    await server?.stop();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('answers service names with the VIP, authoritative, TTL 5 s', async () => {
    const r = await udp(server.port, query('web.default.svc', 'A', 4242));
    assert.equal(r.id, 4242);
    assert.equal(rcodeOf(r), 'NOERROR');
    assert.equal(r.flag_aa, true);
    assert.deepEqual(addrs(r), ['10.96.0.10']);
    for (const a of r.answers ?? []) assert.ok((a as { ttl: number }).ttl <= 5);
  });

  it('answers tasks.SERVICE with the ready addresses, and a VIP-less service with them too', async () => {
    assert.deepEqual(addrs(await udp(server.port, query('tasks.web'))), ['10.88.1.5', '10.88.2.5']);
    assert.deepEqual(addrs(await udp(server.port, query('cart.shop'))), ['10.88.3.7']);
  });

  it('says NODATA for AAAA of a cluster name and NXDOMAIN for unknown .svc names', async () => {
    const six = await udp(server.port, query('web.default.svc', 'AAAA'));
    assert.equal(rcodeOf(six), 'NOERROR');
    assert.equal((six.answers ?? []).length, 0);
    assert.equal(rcodeOf(await udp(server.port, query('nothere.default.svc'))), 'NXDOMAIN');
  });

  it('forwards other names to the upstream and relays its answer', async () => {
    const before = forwarded;
    const r = await udp(server.port, query('example.org'));
    assert.deepEqual(addrs(r), ['192.0.2.1']);
    assert.equal(forwarded, before + 1);
  });

  it('answers over TCP, and sends large answers whole over TCP but truncated over UDP', async () => {
    assert.deepEqual(addrs(await tcp(server.port, query('web.default.svc'))), ['10.96.0.10']);
    const big = await udp(server.port, query('tasks.big'));
    assert.equal(big.flag_tc, true);
    assert.ok((big.answers ?? []).length < 100);
    assert.deepEqual(addrs(await tcp(server.port, query('tasks.big'))), [...many].sort());
  });

  it('answers NXDOMAIN without upstreams and SERVFAIL (bounded) when the upstream is dead', async () => {
    const none = await DnsServer.start({ host: '127.0.0.1', port: 0, directory: dir, upstreams: [] });
    try {
      assert.equal(rcodeOf(await udp(none.port, query('example.org'))), 'NXDOMAIN');
    } finally {
      await none.stop();
    }
    const deadPort = none.port; // closed now: nothing listens there
    const dead = await DnsServer.start({ host: '127.0.0.1', port: 0, directory: dir, upstreams: [`127.0.0.1:${deadPort}`], forwardTimeoutMs: 500 });
    try {
      const t0 = Date.now();
      assert.equal(rcodeOf(await udp(dead.port, query('example.org'))), 'SERVFAIL');
      assert.ok(Date.now() - t0 < 2_000);
    } finally {
      await dead.stop();
      await dead.stop(); // idempotent
    }
  });

  it('frees its port on stop', async () => {
    const s = await DnsServer.start({ host: '127.0.0.1', port: 0, directory: dir, upstreams: [] });
    const port = s.port;
    await s.stop();
    const again = await DnsServer.start({ host: '127.0.0.1', port, directory: dir, upstreams: [] });
    await again.stop();
  });
});
