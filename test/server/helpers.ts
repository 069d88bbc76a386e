/**
 * Test helpers for the API server: a real runServer on SQLite in a temp dir, its admin client,
 * raw HTTPS requests, and waiting with deadlines. Everything started is stopped by cleanup().
 */
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiObject } from '../../src/api/object.js';
import { ApiClient, loadClientConfig, type ApiClientOptions } from '../../src/client/index.js';
import { runServer, type RunningServer, type RunServerOptions } from '../../src/server/run.js';

/** A server, its admin client and its temp dir. */
export interface TestServer {
  dir: string;
  server: RunningServer;
  client: ApiClient;
  /** Stops client and server and removes the dir (safe to call twice). */
  cleanup(): Promise<void>;
}

/** A fresh temp data dir. */
export function tempDir(prefix = 'flotilla-server-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts runServer on 127.0.0.1:0 with SQLite in a new temp dir (or `dir`). */
export async function startTestServer(opts: Partial<RunServerOptions> & { clientOptions?: ApiClientOptions } = {}): Promise<TestServer> {
  const dir = opts.dataDir ?? tempDir();
  const lines: string[] = [];
  const server = await runServer({ dataDir: dir, listen: '127.0.0.1:0', store: 'sqlite', log: (l) => lines.push(l), controllers: false, ...opts });
  const client = new ApiClient(loadClientConfig(path.join(dir, 'admin.json')), opts.clientOptions);
  let done: Promise<void> | undefined;
  return {
    dir,
    server,
    client,
    cleanup: () => {
      done ??= (async () => {
        await client.close();
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      })();
      return done;
    },
  };
}

/** A raw HTTPS request: status, headers and parsed (or raw) body. */
export async function rawRequest(url: string, opts: https.RequestOptions & { body?: string | Buffer } = {}): Promise<{ status: number; body: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...opts, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('raw request timed out')));
    req.end(opts.body);
  });
}

/** A valid Service as a user writes it. */
export function service(name: string, image = 'busybox:1', labels: Record<string, string> = {}, namespace?: string): ApiObject {
  return {
    kind: 'Service',
    metadata: { name, labels, ...(namespace !== undefined ? { namespace } : {}) },
    spec: { image, replicas: 1 },
  } as unknown as ApiObject;
}

/** Polls `check` until it returns true; fails after timeoutMs. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
