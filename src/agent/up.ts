/**
 * `flotilla up`: the server and one agent in one process on this machine, on the embedded
 * store: the default a new user starts with. The agent joins like any other (a join token,
 * a CSR, mTLS), only the token never leaves the process.
 */
import os from 'node:os';
import path from 'node:path';
import { DisposableStack, type Disposable } from '../lifecycle.js';
import { newJoinToken } from '../server/join/token.js';
import { runServer, type RunningServer, type RunServerOptions } from '../server/run.js';
import { runAgent, type RunAgentOptions, type RunningAgent } from './run.js';

/** Options of `flotilla up`. */
export interface RunUpOptions {
  dataDir: string;
  listen: string;
  nodeName?: string;
  labels?: Record<string, string>;
  hooks?: RunAgentOptions['hooks'];
  subnet?: string;
  bridge?: string;
  /** Range the node subnet is cut from (the single node gets the first /24). */
  clusterCidr?: string;
  /** Key-encryption key of Secrets (default DATA_DIR/kek). */
  kekFile?: string;
  /** Resource sampling interval of the agent (default 10 s). */
  metricsIntervalMs?: number;
  /** How often the autoscaler decides (default 10 s). */
  autoscaleIntervalMs?: number;
  /** OTLP/HTTP collector for the spans of the server and the agent's ingress. */
  otlpEndpoint?: string;
  /** Reverse uptime: `--max-node-age`, `--node-provisioner`. */
  recycle?: RunServerOptions['recycle'];
  log?: (line: string) => void;
}

/** The running pair. */
export interface RunningUp extends Disposable {
  server: RunningServer;
  agent: RunningAgent;
}

/** Starts server, then agent; prints one line containing `ready` once both answer. */
export async function runUp(opts: RunUpOptions): Promise<RunningUp> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const stack = new DisposableStack();
  let announced = false;
  try {
    const server = stack.add(await runServer({ dataDir: opts.dataDir, listen: opts.listen, store: 'sqlite', clusterCidr: opts.clusterCidr, kekFile: opts.kekFile, autoscaleIntervalMs: opts.autoscaleIntervalMs, otlpEndpoint: opts.otlpEndpoint, recycle: opts.recycle, log: () => undefined }));
    const { token, object } = newJoinToken(server.pki.caFingerprint(), 'worker', 10 * 60_000);
    await server.store.create({ ...object, metadata: { ...object.metadata, uid: `up-${object.metadata.name}`, creationTimestamp: new Date().toISOString(), generation: 1 } });
    const agent = stack.add(await runAgent({
      server: server.url, token, dataDir: path.join(opts.dataDir, 'agent'),
      name: opts.nodeName ?? os.hostname().toLowerCase(), labels: opts.labels, hooks: opts.hooks, subnet: opts.subnet, bridge: opts.bridge, serviceRouting: true, metricsIntervalMs: opts.metricsIntervalMs, otlpEndpoint: opts.otlpEndpoint,
      // Until `up` printed its ready line, no other line may say ready (scripts wait for the first one).
      log: (l) => { if (announced || !/ready/.test(l)) log(l); },
    }));
    log(`flotilla up ready at ${server.url}: node ${agent.nodeName}, admin config ${server.adminConfigPath}`);
    announced = true;
    return { server, agent, stop: () => stack.stop() };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
