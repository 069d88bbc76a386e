/**
 * A steady HTTP load from inside a node's namespace for the chaos tests: `clients` loops of
 * sequential GETs (3 s timeout each) until stopped (SIGTERM) or 5 minutes have passed, then one
 * JSON line of counts. Bounded in time; the test kills it by PID on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Cluster } from '../helpers/cluster.js';

const LOAD = `
const http = require('node:http');
const [url, clients] = [process.argv[1], Number(process.argv[2])];
const out = { ok: 0, fail: 0, bodies: {}, errors: {} };
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const once = () => new Promise((resolve) => {
  const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
    let b = ''; res.on('data', (d) => { b += d; });
    res.on('end', () => { const k = res.statusCode === 200 ? b.trim() : 'HTTP ' + res.statusCode; if (res.statusCode === 200) out.ok++; else out.fail++; out.bodies[k] = (out.bodies[k] || 0) + 1; resolve(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { out.fail++; out.errors[e.message] = (out.errors[e.message] || 0) + 1; resolve(); });
});
const loop = async () => {
  const deadline = Date.now() + 300000;
  while (!stop && Date.now() < deadline) { await once(); await new Promise((r) => setTimeout(r, 20)); }
};
Promise.all(Array.from({ length: clients }, loop)).then(() => console.log(JSON.stringify(out)));`;

/** Counts of one load run. */
export interface LoadCounts {
  ok: number;
  fail: number;
  bodies: Record<string, number>;
  errors: Record<string, number>;
}

/** A running load; `finish()` stops it and returns its counts. */
export interface RunningLoad {
  child: ChildProcess;
  finish(): Promise<LoadCounts>;
}

/** Starts the load against `url` from `node`'s namespace. */
export function startVipLoad(c: Cluster, node: string, url: string, clients = 2): RunningLoad {
  const [cmd, ...pre] = c.prefix(node);
  const child = spawn(cmd as string, [...pre, process.execPath, '-e', LOAD, url, String(clients)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    finish: async () => {
      child.kill('SIGTERM');
      await Promise.race([ended, new Promise((r) => setTimeout(r, 30_000))]);
      return JSON.parse(stdout.trim().split('\n').pop() ?? '{"ok":0,"fail":-1,"bodies":{},"errors":{}}') as LoadCounts;
    },
  };
}
