/**
 * The node's DNS server (UDP and TCP on one address and port, wire format by dns-packet):
 * answers cluster names from a ServiceDirectory (names.ts) with short TTLs, and forwards every
 * other question, unchanged, to the node's own resolvers (the agent's /etc/resolv.conf), or
 * answers NXDOMAIN when there are none. Containers use it through their /etc/resolv.conf.
 *
 *   question ─> decode ─> resolveName ─┬─ cluster ─> A records (TTL 5 s) / NODATA / NXDOMAIN
 *                                      └─ forward ─> upstream (UDP, 2 s) ─> its answer as is
 *                                                    no upstream: NXDOMAIN; no answer: SERVFAIL
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import type { Disposable } from '../../lifecycle.js';
import { resolveName, type ServiceDirectory } from './names.js';

/** How the server is set up. */
export interface DnsServerOptions {
  /** Address to bind (the node's task bridge gateway; 127.0.0.1 in tests). */
  host: string;
  /** Port; 0 picks a free one (the same for UDP and TCP). Default 53. */
  port?: number;
  directory: ServiceDirectory;
  /** `IP` or `IP:PORT` of resolvers for other names. Default: nameservers of /etc/resolv.conf. */
  upstreams?: string[];
  /** TTL of cluster answers. Default 5 s. */
  ttlSeconds?: number;
  /** Bound on one forwarded question. Default 2 s. */
  forwardTimeoutMs?: number;
  log?: (msg: string) => void;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
type Rcode = keyof typeof RCODE;
const UDP_LIMIT = 512;

/** Nameservers listed in a resolv.conf text. */
export function nameserversOf(resolvConf: string): string[] {
  return resolvConf.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => s !== undefined);
}

/** See the file comment. */
export class DnsServer implements Disposable {
  private readonly sockets = new Set<net.Socket>();
  private readonly forwards = new Set<dgram.Socket>();
  private readonly upstreams: { host: string; port: number }[];
  private stopping: Promise<void> | undefined;

  private constructor(private readonly opts: DnsServerOptions, private readonly udp: dgram.Socket, private readonly tcp: net.Server, readonly port: number) {
    const list = opts.upstreams ?? nameserversOf(readResolvConf());
    this.upstreams = list.map(parseHostPort).filter((u) => !(u.host === opts.host && u.port === port));
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address, UDP_LIMIT).then((out) => {
        if (out !== undefined && this.stopping === undefined) udp.send(out, rinfo.port, rinfo.address);
      });
    });
    tcp.on('connection', (s) => this.serveTcp(s));
  }

  /** Binds UDP and TCP; rejects when the address or port cannot be bound. */
  static async start(opts: DnsServerOptions): Promise<DnsServer> {
    const family = net.isIPv6(opts.host) ? 'udp6' : 'udp4';
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket(family);
      const tcp = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(opts.port ?? 53, opts.host, () => { udp.off('error', reject); resolve(); }); });
        const port = udp.address().port;
        await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, opts.host, () => { tcp.off('error', reject); resolve(); }); });
        udp.on('error', (err) => opts.log?.(`dns: udp: ${err.message}`));
        return new DnsServer(opts, udp, tcp, port);
      } catch (err) {
        udp.close();
        tcp.close();
        if ((opts.port ?? 53) !== 0 || attempt >= 5) throw err;
      }
    }
  }

  /** The bound address. */
  get address(): { host: string; port: number } {
    return { host: this.opts.host, port: this.port };
  }

  /** Closes both sockets, open TCP connections and forwards in flight. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of this.sockets) s.destroy();
      for (const f of this.forwards) f.close();
      await Promise.all([
        new Promise<void>((r) => this.udp.close(() => r())),
        new Promise<void>((r) => this.tcp.close(() => r())),
      ]);
    })();
    return this.stopping;
  }

  /** The response to one message (undefined: drop it). */
  async answer(msg: Buffer, client: string, sizeLimit: number): Promise<Buffer | undefined> {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const q = query.questions?.[0];
    if (q === undefined || query.questions?.length !== 1) return this.reply(query, 'FORMERR', [], sizeLimit);
    const res = resolveName(q.name, client, this.opts.directory);
    if (res.type === 'forward') return this.forward(msg, query, sizeLimit);
    const ttl = this.opts.ttlSeconds ?? 5;
    const wantsA = q.type === 'A' || (q.type as string) === 'ANY'; // dns-packet's types omit ANY (255)
    const answers: dnsPacket.Answer[] = wantsA ? res.addresses.map((data) => ({ type: 'A', name: q.name, ttl, class: 'IN', data })) : [];
    return this.reply(query, res.rcode, answers, Math.max(sizeLimit, ednsSize(query)));
  }

  private reply(query: dnsPacket.DecodedPacket, rcode: Rcode, answers: dnsPacket.Answer[], sizeLimit: number): Buffer {
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const base = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | rd | RCODE[rcode];
    let list = answers;
    let flags = base;
    for (;;) {
      const out = dnsPacket.encode({ type: 'response', id: query.id, flags, questions: query.questions, answers: list });
      if (out.length <= sizeLimit || list.length === 0) return out;
      list = list.slice(0, Math.max(0, list.length - Math.ceil((out.length - sizeLimit) / 16)));
      flags = base | dnsPacket.TRUNCATED_RESPONSE;
    }
  }

  /** Sends the question as is to the first upstream that answers; SERVFAIL when none does. */
  private async forward(msg: Buffer, query: dnsPacket.DecodedPacket, sizeLimit: number): Promise<Buffer> {
    if (this.upstreams.length === 0) return this.reply(query, 'NXDOMAIN', [], sizeLimit);
    for (const up of this.upstreams) {
      const out = await this.askUpstream(msg, up).catch(() => undefined);
      if (out !== undefined) return out;
    }
    return this.reply(query, 'SERVFAIL', [], sizeLimit);
  }

  private askUpstream(msg: Buffer, up: { host: string; port: number }): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
      this.forwards.add(sock);
      const done = (err?: Error, out?: Buffer): void => {
        clearTimeout(timer);
        if (this.forwards.delete(sock)) sock.close();
        if (out !== undefined) resolve(out);
        else reject(err ?? new Error('closed'));
      };
      const timer = setTimeout(() => done(new Error(`no answer from ${up.host}:${up.port}`)), this.opts.forwardTimeoutMs ?? 2_000);
      sock.on('error', (err) => done(err));
      sock.on('close', () => done(new Error('closed')));
      sock.on('message', (out) => { if (out.length >= 2 && out.readUInt16BE(0) === msg.readUInt16BE(0)) done(undefined, out); });
      sock.send(msg, up.port, up.host, (err) => { if (err !== null) done(err); });
    });
  }

  /** DNS over TCP: 2-byte length, then the message; several per connection. */
  private serveTcp(s: net.Socket): void {
    this.sockets.add(s);
    s.setTimeout(10_000, () => s.destroy());
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(msg, normalizeAddress(s.remoteAddress ?? ''), 65_535).then((out) => {
          if (out === undefined || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          s.write(Buffer.concat([len, out]));
        });
      }
    });
  }
}

/** The EDNS UDP payload size a client announced (0 without EDNS). */
function ednsSize(q: dnsPacket.DecodedPacket): number {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return opt?.udpPayloadSize ?? 0;
}

function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s);
  if (net.isIPv6(s)) return { host: s, port: 53 };
  return { host: m?.[1] ?? s, port: m?.[2] !== undefined ? Number(m[2]) : 53 };
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function readResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
