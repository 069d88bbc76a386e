/**
 * The certificates of the ingress, read one Secret at a time: a node may not list or watch
 * Secrets (need-to-know), only GET those an Ingress names for TLS. After every change of the
 * Ingresses, and every `refreshMs` (a renewed certificate), the referenced Secrets are read
 * again; `onChange` runs when a value changed, so the proxy rebuilds its TLS contexts.
 *
 *   Ingresses ──refs──► refresh(): GET Secret/NS/NAME for each ref ──changed?──► onChange()
 *                         ▲ every refreshMs (timer, unref'd)
 */
import { NotFoundError } from '../../api/errors.js';
import type { SecretSpec } from '../../api/kinds.js';
import type { Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';

/** See the file comment. */
export class TlsSecretCache implements Disposable {
  private readonly values = new Map<string, SecretSpec>();
  private readonly revisions = new Map<string, number>();
  private refs: Array<{ namespace: string; name: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Pick<Store, 'get'>,
    private readonly onChange: () => void,
    private readonly log: (msg: string) => void,
    private readonly refreshMs = 15_000,
  ) {}

  /** The cached spec of Secret `namespace/name`, if it was read. */
  get(namespace: string, name: string): SecretSpec | undefined {
    return this.values.get(`${namespace}/${name}`);
  }

  /** Sets the Secrets to follow and reads them (resolves once read). */
  follow(refs: Array<{ namespace: string; name: string }>): Promise<void> {
    this.refs = refs;
    if (this.timer === undefined && !this.stopped) {
      this.timer = setInterval(() => void this.refresh(), this.refreshMs);
      this.timer.unref();
    }
    return this.refresh();
  }

  /** Reads every followed Secret again (one run at a time; a request during a run runs once more). */
  refresh(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (await this.readAll()) this.onChange();
      } while (this.again && !this.stopped);
    })().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async readAll(): Promise<boolean> {
    let changed = false;
    const wanted = new Set(this.refs.map((r) => `${r.namespace}/${r.name}`));
    for (const k of [...this.values.keys()]) {
      if (!wanted.has(k)) {
        this.values.delete(k);
        this.revisions.delete(k);
        changed = true;
      }
    }
    for (const r of this.refs) {
      if (this.stopped) break;
      const k = `${r.namespace}/${r.name}`;
      try {
        const s = await this.store.get({ kind: 'Secret', namespace: r.namespace, name: r.name });
        if (s === undefined) throw new NotFoundError(`secret ${k} not found`);
        if (this.revisions.get(k) === s.metadata.revision) continue;
        this.values.set(k, s.spec as SecretSpec);
        this.revisions.set(k, s.metadata.revision);
        changed = true;
      } catch (err) {
        if (this.values.delete(k)) changed = true;
        this.revisions.delete(k);
        if (!(err instanceof NotFoundError)) this.log(`ingress: tls: cannot read secret ${k}: ${(err as Error).message}`);
      }
    }
    return changed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }
}
