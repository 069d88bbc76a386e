/**
 * The ingress proxy's own cost, on loopback, in one run: wrk to a Node.js http backend (a child
 * process: its own event loop) directly, through Flotilla's IngressProxy (src/agent/ingress, in
 * this process, routes from an in-memory store: the bench measures the proxy, not the store), and
 * through a bare ten-line Node.js proxy (http.request + pipe over a keep-alive agent) as the floor
 * of what any proxy written on node:http costs here. Interleaved rounds, median round shown.
 *
 *   node --import tsx bench/ingress-proxy.ts [--seconds 4] [--rounds 3] [--connections 16]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { IngressProxy } from '../src/agent/ingress/proxy.js';
import type { ServiceEndpoints } from '../src/controllers/endpoints/endpoints.js';
import type { ApiObject } from '../src/api/object.js';
import { MemoryStore } from '../test/helpers/memory-store.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' } } });

const BACKEND_JS = `const http = require('node:http');
const body = Buffer.from('hello, bench\\n');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

interface Figures { rps: number; p99Ms: number }

function startBackend(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', BACKEND_JS], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
  });
}

function wrk(url: string): Promise<Figures> {
  const argv = ['-t1', `-c${values.connections}`, `-d${values.seconds}s`, '--timeout', '5s', '--latency', '-H', 'Host: bench.test', url];
  return new Promise((resolve, reject) => {
    const c = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.once('error', reject);
    c.once('exit', () => {
      const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
      resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p99Ms: Number(p99?.[1] ?? NaN) * scale });
    });
  });
}

function listen(s: http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  const backend = await startBackend();
  const store = new MemoryStore();
  const ingress = { kind: 'Ingress', metadata: { namespace: 'default', name: 'bench' }, spec: { tls: [], rules: [{ host: 'bench.test', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: 80 } }] }] } };
  await store.create(ingress as unknown as ApiObject);
  const web: ServiceEndpoints = { namespace: 'default', name: 'web', uid: 'u1', vip: '10.96.0.1', ports: [{ port: 80, targetPort: backend.port, protocol: 'tcp' }], endpoints: [{ task: 'web-1', node: 'n1', ip: '127.0.0.1' }] };
  const view = new Map([['default/web', web]]);
  const proxy = new IngressProxy({ source: { view: () => view, onChange: () => () => undefined }, store, httpPort: 0, host: '127.0.0.1' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const bare = http.createServer((req, res) => {
    const p = http.request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: req.headers, agent }, (pr) => {
      res.writeHead(pr.statusCode ?? 502, pr.headers);
      pr.pipe(res);
    });
    p.on('error', () => res.destroy());
    req.pipe(p);
  });
  try {
    await proxy.start();
    const barePort = await listen(bare);
    const paths: Array<[string, string]> = [
      ['direct', `http://127.0.0.1:${backend.port}/`],
      ['ingress', `http://127.0.0.1:${proxy.http?.port ?? 0}/`],
      ['bare proxy', `http://127.0.0.1:${barePort}/`],
    ];
    const runs = new Map<string, Figures[]>(paths.map(([n]) => [n, []]));
    for (let r = 0; r < Number(values.rounds); r++) for (const [n, url] of paths) runs.get(n)?.push(await wrk(url));
    const median = (fs: Figures[]): Figures => [...fs].sort((a, b) => a.rps - b.rps)[Math.floor(fs.length / 2)] as Figures;
    const direct = median(runs.get('direct') ?? []);
    console.log(`ingress-proxy bench: wrk -t1 -c${values.connections} -d${values.seconds}s x ${values.rounds} interleaved rounds on loopback, Node.js keep-alive backend; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`all rounds req/s: ${[...runs].map(([n, fs]) => `${n} ${fs.map((f) => f.rps.toFixed(0)).join('/')}`).join(', ')}`);
    console.log('path         req/s   p99 ms   vs direct');
    for (const [n] of paths) {
      const f = median(runs.get(n) ?? []);
      console.log(`${n.padEnd(11)} ${f.rps.toFixed(0).padStart(7)} ${f.p99Ms.toFixed(2).padStart(8)}   ${(f.rps / direct.rps).toFixed(2)}x`);
    }
  } finally {
    await proxy.stop();
    bare.close();
    agent.destroy();
    backend.child.kill();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
