/**
 * A real Prometheus (Debian's prometheus package) for tests: listens on 127.0.0.1:PORT, scrapes
 * one HTTPS target every second with a CA file and a bearer token file (job `flotilla`, path
 * /metrics, plus a job `path-N` for each further metrics path asked for), keeps its TSDB in a temp
 * dir. stop() kills it (by PID) and removes the dir.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './registry.js';
import { killAndWait } from './netns.js';

/** A running Prometheus. */
export interface TestPrometheus {
  url: string;
  /** An instant query; the result vector. */
  query(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The scrape target's health as Prometheus sees it ("up", "down", "unknown") and its last error. */
  target(): Promise<{ health: string; lastError: string } | undefined>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `target` (host:port) over HTTPS. */
export async function startPrometheus(opts: { target: string; caPem: string; token: string; morePaths?: string[] }): Promise<TestPrometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-prom-'));
  await writeFile(path.join(dir, 'ca.pem'), opts.caPem);
  await writeFile(path.join(dir, 'token'), opts.token, { mode: 0o600 });
  const job = (name: string, metricsPath: string): string => `  - job_name: ${name}
    scheme: https
    metrics_path: ${metricsPath}
    tls_config: {ca_file: ${path.join(dir, 'ca.pem')}}
    authorization: {credentials_file: ${path.join(dir, 'token')}}
    static_configs: [{targets: ['${opts.target}']}]
`;
  const jobs = [job('flotilla', '/metrics'), ...(opts.morePaths ?? []).map((p, i) => job(`path-${i}`, p))];
  await writeFile(path.join(dir, 'prometheus.yml'), `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
${jobs.join('')}`);
  const port = await freePort();
  const child = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await killAndWait(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 30 s: ${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(q) {
      const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return r.data?.result ?? [];
    },
    async target() {
      const r = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data?: { activeTargets?: Array<{ health: string; lastError: string }> } };
      return r.data?.activeTargets?.[0];
    },
    stop,
  };
}
