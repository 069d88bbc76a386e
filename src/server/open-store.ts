/**
 * Opens the configured store: SQLite at DATA_DIR/state.db, or etcd. An etcd that does not
 * answer yet is waited for (message on stderr, retry with backoff up to 10 s), not a crash:
 * servers and etcd members often start together.
 */
import path from 'node:path';
import { sleep } from '../lifecycle.js';
import type { Store } from '../store/store.js';

/** Which store and where. */
export interface StoreChoice {
  store: 'sqlite' | 'etcd';
  dataDir: string;
  etcdEndpoints?: string[];
  /** SQLite durability: `full` (default) fsyncs every commit; `normal` survives a crash of the process, not of the machine. */
  sqliteSynchronous?: 'full' | 'normal';
}

/** File name of the embedded store inside the data dir. */
export const SQLITE_FILE = 'state.db';

/** Opens the store and waits until it answers; rejects only on `signal` abort or bad options. */
export async function openStore(choice: StoreChoice, signal?: AbortSignal): Promise<Store> {
  // Each backend is loaded only when chosen: the etcd client (gRPC) costs memory a SQLite server does not need.
  if (choice.store === 'sqlite') return (await import('../store/sqlite/index.js')).openSqliteStore({ path: path.join(choice.dataDir, SQLITE_FILE), synchronous: choice.sqliteSynchronous ?? 'full' });
  const endpoints = choice.etcdEndpoints ?? [];
  if (endpoints.length === 0) throw new Error('--store etcd needs --etcd-endpoints URL[,URL...]');
  const { openEtcdStore } = await import('../store/etcd/index.js');
  const store = openEtcdStore({ endpoints });
  try {
    await waitUntilAnswers(store, `etcd at ${endpoints.join(',')}`, signal);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

async function waitUntilAnswers(store: Store, what: string, signal?: AbortSignal): Promise<void> {
  let delayMs = 500;
  for (;;) {
    try {
      await store.revision();
      return;
    } catch (err) {
      if (signal?.aborted) throw new Error(`gave up waiting for ${what}`);
      console.error(`flotilla server: ${what} is not reachable yet (${(err as Error).message}); retrying in ${(delayMs / 1000).toFixed(1)} s`);
      await sleep(delayMs, signal);
      if (signal?.aborted) throw new Error(`gave up waiting for ${what}`);
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  }
}
