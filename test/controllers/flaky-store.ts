/**
 * A Store wrapper for controller tests on a real store: chosen updates fail once with a
 * ConflictError, as when another writer wins the race. A fake around the real store, not a mock.
 */
import { ConflictError } from '../../src/api/errors.js';
import type { ApiObject } from '../../src/api/object.js';
import type { Store } from '../../src/store/store.js';

/** The wrapped store, except that chosen updates fail once with a ConflictError (a lost race). */
export class FlakyStore implements Store {
  failNext: ((o: ApiObject) => boolean) | undefined;
  failures = 0;
  constructor(private readonly inner: Store) {}
  create(o: ApiObject): Promise<ApiObject> { return this.inner.create(o); }
  get(...a: Parameters<Store['get']>): ReturnType<Store['get']> { return this.inner.get(...a); }
  list(...a: Parameters<Store['list']>): ReturnType<Store['list']> { return this.inner.list(...a); }
  update(o: ApiObject, rev?: number): Promise<ApiObject> {
    if (this.failNext?.(o) === true) {
      this.failNext = undefined;
      this.failures++;
      return Promise.reject(new ConflictError('injected: lost a race'));
    }
    return this.inner.update(o, rev);
  }
  delete(...a: Parameters<Store['delete']>): ReturnType<Store['delete']> { return this.inner.delete(...a); }
  txn(...a: Parameters<Store['txn']>): ReturnType<Store['txn']> { return this.inner.txn(...a); }
  watch(...a: Parameters<Store['watch']>): ReturnType<Store['watch']> { return this.inner.watch(...a); }
  revision(): Promise<number> { return this.inner.revision(); }
  close(): Promise<void> { return this.inner.close(); }
}
