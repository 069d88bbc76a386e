/**
 * Servers on one store publish their API URLs, so that a client or an agent that knows one of
 * them learns the others (admin.json `servers`, the join answer). The list is one Config,
 * `flotilla-system/api-servers`, data `SERVER_KEY -> URL` (the key is stable per host and data dir,
 * so a server restarted on another port replaces its old URL); each server adds itself on start
 * (optimistic concurrency, retried on conflict) and follows the Config to keep its list current.
 * A server that is gone stays listed: clients skip an unreachable server in milliseconds.
 *
 *   start: get -> absent: create {me} | present: update + me (expected revision) -> Conflict: again
 *   then:  informer on Configs of flotilla-system -> urls() current -> onChange()
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, ConflictError } from '../api/errors.js';
import type { ApiObject } from '../api/object.js';
import { Informer } from '../controllers/framework/informer.js';
import { disposable, sleep, type Disposable } from '../lifecycle.js';
import type { Store } from '../store/store.js';
import { SYSTEM_NAMESPACE } from './pki/ca-store.js';

/** Name of the Config listing the API servers. */
export const API_SERVERS_CONFIG = 'api-servers';

const KEY = { kind: 'Config' as const, namespace: SYSTEM_NAMESPACE, name: API_SERVERS_CONFIG };

/** The published list, kept current. */
export interface ApiServerList extends Disposable {
  /** Every published URL, this server's first. */
  urls(): string[];
}

const urlsOf = (obj: ApiObject | undefined): string[] => Object.values((obj?.spec as { data?: Record<string, string> } | undefined)?.data ?? {});

/** The published URLs (none with SQLite, where nobody publishes): the join answer hands them to agents. */
export async function publishedApiServers(store: Store): Promise<string[]> {
  return urlsOf(await store.get(KEY));
}

/** Adds `url` to the list and follows it; see the file comment. */
export async function publishApiServer(o: { store: Store; url: string; key: string; onChange?: () => void; log: (line: string) => void }): Promise<ApiServerList> {
  let current = await addUrl(o.store, o.key.replace(/[^A-Za-z0-9._-]/g, '_'), o.url);
  const informer = new Informer({ store: o.store, kind: 'Config', namespace: SYSTEM_NAMESPACE, log: o.log });
  const follow = (obj: ApiObject): void => {
    if (obj.metadata.name !== API_SERVERS_CONFIG) return;
    const next = urlsOf(obj);
    if (next.join(' ') === current.join(' ')) return;
    current = next;
    o.onChange?.();
  };
  informer.addHandler({ onAdd: follow, onUpdate: (_old, obj) => follow(obj) });
  await informer.start();
  return {
    urls: () => [o.url, ...current.filter((u) => u !== o.url)],
    ...disposable(() => informer.stop()),
  };
}

/** Read-modify-write of the Config with its revision, until it holds `url`; answers every URL. */
async function addUrl(store: Store, key: string, url: string): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const obj = await store.get(KEY);
    const data = { ...((obj?.spec as { data?: Record<string, string> } | undefined)?.data ?? {}) };
    if (data[key] === url) return urlsOf(obj);
    data[key] = url;
    try {
      if (obj === undefined) {
        const created: ApiObject = {
          kind: 'Config',
          metadata: { ...KEY, uid: randomUUID(), labels: { 'flotilla.io/owner': 'server' }, revision: 0, generation: 1, creationTimestamp: new Date().toISOString() },
          spec: { data },
        };
        return urlsOf(await store.create(created));
      }
      return urlsOf(await store.update({ ...obj, spec: { data } }, obj.metadata.revision));
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof AlreadyExistsError) || attempt >= 20) throw err;
      await sleep(20 + Math.random() * 80);
    }
  }
}
