/**
 * Helpers shared by the Store conformance suite (conformance.ts): object factories, a watch
 * collector that waits with a deadline, and error assertions. Backend-neutral.
 */
import assert from 'node:assert/strict';
import type { ApiObject, Kind } from '../../src/api/object.js';
import type { Store, Watch, WatchEvent, WatchHandlers, WatchOptions } from '../../src/store/store.js';

/** Builds a minimal valid object; the store stamps metadata.revision. */
export function makeObject(kind: Kind, namespace: string, name: string, labels: Record<string, string> = {}, spec: unknown = {}): ApiObject {
  return {
    kind,
    metadata: {
      name,
      namespace,
      uid: `uid-${kind}-${namespace}-${name}`,
      labels,
      revision: 0,
      generation: 1,
      creationTimestamp: '2024-01-01T00:00:00Z',
    },
    spec,
  };
}

/** Zero-padded names sort the same as their creation order (byte order == numeric order). */
export function padName(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(6, '0')}`;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Records every event and error of a watch; waits for counts with a deadline. */
export class WatchCollector implements WatchHandlers {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  watch: Watch | undefined;

  onEvent(ev: WatchEvent): void {
    this.events.push(ev);
  }

  onError(err: Error): void {
    this.errors.push(err);
  }

  /** Starts a watch that records into this collector. */
  static async start(store: Store, opts: WatchOptions): Promise<WatchCollector> {
    const c = new WatchCollector();
    c.watch = await store.watch(opts, { onEvent: (ev) => c.onEvent(ev), onError: (err) => c.onError(err) });
    return c;
  }

  /** Waits until at least `n` events arrived; fails with what it got after `timeoutMs`. */
  async waitForEvents(n: number, timeoutMs = 10_000): Promise<WatchEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (this.errors.length > 0) throw new Error(`watch failed while waiting for ${n} events: ${this.errors[0]?.message}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${n} events, got ${this.events.length}`);
      await delay(5);
    }
    return this.events;
  }

  /** Waits until an error arrived. */
  async waitForError(timeoutMs = 10_000): Promise<Error> {
    const deadline = Date.now() + timeoutMs;
    while (this.errors.length === 0) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for a watch error (got ${this.events.length} events)`);
      await delay(5);
    }
    return this.errors[0] as Error;
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }
}

/** Asserts that `p` rejects with an instance of `ctor`. */
export async function rejectsWith(p: Promise<unknown>, ctor: abstract new (...args: never[]) => Error, what: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ctor, `${what}: expected ${ctor.name}, got ${String(err)}`);
    return true;
  });
}

/** Event summary `type:Kind/ns/name@rev` for readable deep-equal failures. */
export function summarize(evs: WatchEvent[]): string[] {
  return evs.map((e) => `${e.type}:${e.object.kind}/${e.object.metadata.namespace}/${e.object.metadata.name}@${e.revision}`);
}

/**
 * Reads `ack NAME REVISION` lines that a crash-writer fixture prints, appending them to `acks`;
 * returns the unfinished last line to prepend to the next chunk.
 */
export function collectAcks(buf: string, acks: Array<{ name: string; revision: number }>): string {
  const lines = buf.split('\n');
  const rest = lines.pop() ?? '';
  for (const line of lines) {
    const [tag, name, rev] = line.split(' ');
    if (tag === 'ack' && name !== undefined && rev !== undefined) acks.push({ name, revision: Number(rev) });
  }
  return rest;
}
