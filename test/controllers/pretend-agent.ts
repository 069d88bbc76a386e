/**
 * The agent's part in controller tests on a real store, played through the store (a fake in
 * unit tests; the e2e tests run real agents): assigned tasks become running and ready, tasks
 * desired shutdown become shutdown. Every wait is bounded.
 */
import { ConflictError } from '../../src/api/errors.js';
import type { Task } from '../../src/api/kinds.js';
import type { Store } from '../../src/store/store.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes a task status as an agent would; ignores races with the controllers (next round). */
export async function report(store: Store, t: Task, status: Partial<NonNullable<Task['status']>>): Promise<void> {
  const next: Task = { ...t, status: { ...(t.status as NonNullable<Task['status']>), ...status, timestamp: new Date().toISOString() } };
  try {
    await store.update(next, t.metadata.revision);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
  }
}

/** One round of the pretend agent: run what is assigned, stop what is desired shutdown. */
export async function agentRound(store: Store): Promise<void> {
  for (const t of (await store.list('Task')).items as Task[]) {
    const st = t.status?.state;
    if (t.spec.desiredState === 'shutdown' && st !== undefined && !['complete', 'failed', 'shutdown', 'rejected', 'orphaned'].includes(st)) await report(store, t, { state: 'shutdown', ready: false });
    else if (t.spec.desiredState === 'running' && st === 'assigned') await report(store, t, { state: 'running', ready: true });
  }
}

/** Polls (running the pretend agent) until `check` passes; fails with its last error after `timeoutMs`. */
export async function eventually(store: Store, what: string, check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await agentRound(store);
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    await delay(25);
  }
}

