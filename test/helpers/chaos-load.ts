/**
 * The write load of the chaos suite (issue 13): W workers, each creating and updating objects of
 * its own (Configs or Services named PREFIX-wW-N) in a loop through the API, logging every write
 * the API ACKNOWLEDGED as (name, step, revision). Each object carries its step (a counter that only
 * its worker raises, so steps of one name are ordered); the history check then says: for every
 * acknowledged (name, step), the final state holds that name at that step or a later one.
 *
 *   worker w: loop until the deadline
 *     create PREFIX-wW-N (step 1)          --answer--> ack {name, step, revision}
 *     or update one of its names (step+1)  --error---> errors++ (an ambiguous write is NOT acked:
 *                                                      the client surfaces it, we never count it)
 *
 * Usable in-process (runWriters with an ApiClient) or as a child process inside a network
 * namespace: `node --import tsx test/helpers/chaos-load.ts CONFIG KIND PREFIX WORKERS MS`, which
 * prints one JSON line {"operations","errors","acks":[[name,step,revision],...]} at the end.
 */
import { pathToFileURL } from 'node:url';
import { NotFoundError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import { ApiClient } from '../../src/client/index.js';
import { AmbiguousWriteError } from '../../src/client/transport.js';

/** One acknowledged write: the object's name, the step written, the revision the API answered. */
export type Ack = [name: string, step: number, revision: number];

/** What a load run did. */
export interface LoadResult {
  operations: number;
  errors: number;
  /** Errors that were ambiguous writes (sent, connection lost before the answer: maybe applied). */
  ambiguous: number;
  acks: Ack[];
  /** The first few error messages (for failure reports). */
  samples: string[];
}

/** What the writers write. */
export type LoadKind = 'Config' | 'Service';

/** Options of runWriters. */
export interface LoadOptions {
  client: Pick<ApiClient, 'create' | 'updateSpec'>;
  kind: LoadKind;
  prefix: string;
  workers: number;
  /** Stops starting new writes after this long. */
  durationMs: number;
  /** Objects per worker at most (then only updates). Default 4. */
  objectsPerWorker?: number;
  /** Service image (kind Service); hollow nodes pull nothing, any reference works. */
  image?: string;
  /** Replicas of each Service (default 2). */
  replicas?: number;
  /** Pause between a worker's writes (default 20 ms). */
  pauseMs?: number;
}

/** The object a worker writes for (name, step). */
export function loadObject(kind: LoadKind, name: string, step: number, o: Pick<LoadOptions, 'image' | 'replicas'>): ApiObject {
  const metadata = { name, namespace: 'default', labels: { 'chaos.flotilla.dev/load': 'true' }, annotations: { 'chaos.flotilla.dev/step': String(step) } };
  const spec = kind === 'Config'
    ? { data: { step: String(step) } }
    : { image: o.image ?? '127.0.0.1:5000/chaos/hollow:1', replicas: o.replicas ?? 2, env: { STEP: String(step) } };
  return { kind, metadata, spec } as unknown as ApiObject;
}

/** The step an object holds (its annotation), or 0. */
export function stepOf(obj: ApiObject | undefined): number {
  return Number(obj?.metadata.annotations?.['chaos.flotilla.dev/step'] ?? 0);
}

/** Runs the workers until the deadline; resolves with every acknowledged write. */
export async function runWriters(o: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { operations: 0, errors: 0, ambiguous: 0, acks: [], samples: [] };
  const deadline = Date.now() + o.durationMs;
  const max = o.objectsPerWorker ?? 4;
  const worker = async (w: number): Promise<void> => {
    const steps = new Map<string, number>();
    let next = 0;
    while (Date.now() < deadline) {
      const creating = steps.size < max && (steps.size === 0 || Math.random() < 0.3);
      const name = creating ? `${o.prefix}-w${w}-${next++}` : [...steps.keys()][Math.floor(Math.random() * steps.size)] as string;
      const step = (steps.get(name) ?? 0) + 1;
      // The step is taken even when the write fails: a later write of this name never reuses it.
      steps.set(name, step);
      const obj = loadObject(o.kind, name, step, o);
      result.operations++;
      try {
        const written = creating ? await o.client.create(obj) : await updateOrCreate(o.client, obj);
        result.acks.push([name, step, written.metadata.revision]);
      } catch (err) {
        result.errors++;
        if (err instanceof AmbiguousWriteError) result.ambiguous++;
        if (result.samples.length < 5) result.samples.push(`${name}@${step}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 20));
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return result;
}

/** An unconditional spec update; a create when the name does not exist (its first write failed). */
async function updateOrCreate(client: LoadOptions['client'], obj: ApiObject): Promise<ApiObject> {
  try {
    return await client.updateSpec(obj);
  } catch (err) {
    if (err instanceof NotFoundError) return client.create(obj);
    throw err;
  }
}

/** Acknowledged writes whose step the final state does not hold (by name: the latest acked step). */
export function lostAcks(acks: readonly Ack[], finalSteps: ReadonlyMap<string, number>): Ack[] {
  return acks.filter(([name, step]) => (finalSteps.get(name) ?? 0) < step);
}

/** `node --import tsx test/helpers/chaos-load.ts CONFIG KIND PREFIX WORKERS MS`: see the file comment. */
async function main(argv: string[]): Promise<void> {
  const [config, kind, prefix, workers, ms] = argv;
  if (config === undefined || (kind !== 'Config' && kind !== 'Service') || prefix === undefined) {
    throw new Error('usage: chaos-load.ts CONFIG Config|Service PREFIX WORKERS DURATION_MS');
  }
  const client = ApiClient.fromConfigFile(config, { timeoutMs: 10_000 });
  try {
    const r = await runWriters({ client, kind, prefix, workers: Number(workers ?? 4), durationMs: Number(ms ?? 10_000) });
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).stack ?? String(err));
    process.exit(1);
  });
}
