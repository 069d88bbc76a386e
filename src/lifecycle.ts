/**
 * Everything that runs can be stopped (STYLE.md 9): loops, watches, timers, servers and
 * child processes return a Disposable whose `stop()` is idempotent and resolves once the
 * thing has really ended.
 */
export interface Disposable {
  stop(): Promise<void>;
}

/** Wraps a stop function so that calling it twice runs it once and both calls wait for it. */
export function disposable(stopOnce: () => Promise<void> | void): Disposable {
  let done: Promise<void> | undefined;
  return {
    stop(): Promise<void> {
      done ??= Promise.resolve().then(stopOnce);
      return done;
    },
  };
}

/** Stops a set of disposables in reverse order of registration; collects them as they come. */
export class DisposableStack implements Disposable {
  private readonly items: Disposable[] = [];
  private stopping: Promise<void> | undefined;

  add<T extends Disposable>(d: T): T {
    this.items.push(d);
    return d;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const d of this.items.reverse()) {
        try {
          await d.stop();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    })();
    return this.stopping;
  }
}

/** Resolves after `ms`, or early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
