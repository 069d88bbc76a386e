/**
 * `flotilla server`: runs the manager in the foreground until SIGINT or SIGTERM, then stops it
 * cleanly (API closed, store closed) and exits 0. Prints one line containing `ready` once the
 * API answers (CONTRACT "Processes").
 */
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseDuration } from './rollout-status.js';
import { addRecycleOptions, recycleSettings, type RecycleFlags } from './recycle-flags.js';

/** Where `server` and `up` keep their state unless told otherwise. */
export const DEFAULT_DATA_DIR = '/var/lib/flotilla';
/** Where the API listens unless told otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1:6443';

interface ServerOptions extends RecycleFlags {
  dataDir: string;
  listen: string;
  allowHostBinds?: boolean;
  store: 'sqlite' | 'etcd';
  etcdEndpoints?: string;
  clusterCidr?: string;
  kekFile?: string;
  eventTtl?: number;
  autoscaleInterval?: number;
  otlpEndpoint?: string;
}

/** Registers `server`. */
export function registerServer(program: Command, ctx: CliContext): void {
  addRecycleOptions(program
    .command('server'))
    .description('run the manager: API, store, scheduler and controllers (foreground)')
    .option('--data-dir <dir>', 'state directory', DEFAULT_DATA_DIR)
    .option('--listen <host:port>', 'API address', DEFAULT_LISTEN)
    .option('--allow-host-binds', 'admit services with volumes of type bind (host paths); off by default')
    .addOption(new Option('--store <store>', 'state store').choices(['sqlite', 'etcd']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs (with --store etcd)')
    .option('--cluster-cidr <cidr>', 'range the nodes\' task subnets (a /24 each) are cut from (default 10.88.0.0/16)')
    .option('--kek-file <file>', 'key-encryption key of secrets, a 0600 file kept outside the store (default DATA_DIR/kek, created on the first start)')
    .option('--autoscale-interval <duration>', 'how often the autoscaler decides the size of autoscaled services (default 10s)', parseDuration)
    .option('--otlp-endpoint <url>', 'send spans (API requests, scheduling) with OTLP over HTTP to this collector, e.g. http://127.0.0.1:4318')
    .option('--event-ttl <duration>', 'delete Events last seen longer ago than this (30m, 1h, 24h; default 1h)', parseDuration)
    .action(async (opts: ServerOptions) => {
      const endpoints = opts.etcdEndpoints?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (opts.store === 'etcd' && (endpoints === undefined || endpoints.length === 0)) {
        throw new UsageError('--store etcd needs --etcd-endpoints URL[,URL...]');
      }
      if (opts.store !== 'etcd' && endpoints !== undefined) throw new UsageError('--etcd-endpoints needs --store etcd');
      // Loaded on demand: client commands must not pay for loading the server and its stores.
      const { runServer } = await import('../../server/run.js');
      const server = await runServer({
        dataDir: opts.dataDir,
        listen: opts.listen,
        allowHostBinds: opts.allowHostBinds === true,
        store: opts.store,
        ...(endpoints !== undefined ? { etcdEndpoints: endpoints } : {}),
        ...(opts.clusterCidr !== undefined ? { clusterCidr: opts.clusterCidr } : {}),
        ...(opts.kekFile !== undefined ? { kekFile: opts.kekFile } : {}),
        ...(opts.eventTtl !== undefined ? { eventTtlMs: opts.eventTtl } : {}),
        ...(opts.autoscaleInterval !== undefined ? { autoscaleIntervalMs: opts.autoscaleInterval } : {}),
        ...(opts.otlpEndpoint !== undefined ? { otlpEndpoint: opts.otlpEndpoint } : {}),
        recycle: recycleSettings(opts),
        // runServer prints the one `ready` line (with the URL and admin.json path) once the API answers.
        log: (line) => ctx.io.out(`${line}\n`),
      });
      const signal = await untilSignal(['SIGINT', 'SIGTERM']);
      ctx.io.err(`${signal}: stopping\n`);
      await server.stop();
    });
}

/** Resolves with the first of the signals received; removes its handlers afterwards. */
export function untilSignal(signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (s: NodeJS.Signals): void => {
      for (const sig of signals) process.off(sig, handler);
      resolve(s);
    };
    for (const sig of signals) process.on(sig, handler);
  });
}
