/**
 * A hand-written in-memory CliClient for unit tests: records calls, can be told to answer the
 * next N updates with a conflict, and builds objects with sensible metadata.
 */
import { ConflictError, NotFoundError } from '../../src/api/errors.js';
import { keyString, type ApiObject, type Kind, type ObjectKey } from '../../src/api/object.js';
import { matchesSelector, type ListOptions, type ListResult } from '../../src/store/store.js';
import type { ApplyResult, CliClient, CliDeps } from '../../src/cli/context.js';

/** Fixed clock for tests. */
export const NOW = new Date('2026-01-01T12:00:00Z');

/** Builds an object created `ageSeconds` before NOW. */
export function obj(kind: Kind, name: string, spec: unknown, status?: unknown, extra: { namespace?: string; labels?: Record<string, string>; ageSeconds?: number } = {}): ApiObject {
  const o: ApiObject = {
    kind,
    metadata: {
      name,
      namespace: extra.namespace ?? (kind === 'Node' ? '' : 'default'),
      uid: `uid-${name}`,
      labels: extra.labels ?? {},
      revision: 1,
      generation: 1,
      creationTimestamp: new Date(NOW.getTime() - (extra.ageSeconds ?? 300) * 1000).toISOString(),
    },
    spec,
  };
  if (status !== undefined) o.status = status;
  return o;
}

/** The fake: a map of objects plus a call log. */
export class FakeClient implements CliClient {
  readonly objects = new Map<string, ApiObject>();
  readonly calls: string[] = [];
  conflictsLeft = 0;
  closed = false;
  private rev = 10;

  constructor(objects: ApiObject[] = []) {
    for (const o of objects) this.objects.set(keyString({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }), o);
  }

  get(key: ObjectKey): Promise<ApiObject | undefined> {
    this.calls.push(`get ${keyString(key)}`);
    return Promise.resolve(this.objects.get(keyString(key)));
  }

  list(kind: Kind, opts: ListOptions = {}): Promise<ListResult> {
    this.calls.push(`list ${kind} ${opts.namespace ?? '*'}`);
    const items = [...this.objects.values()].filter(
      (o) => o.kind === kind && (opts.namespace === undefined || o.metadata.namespace === opts.namespace) && matchesSelector(o.metadata.labels, opts.labelSelector),
    );
    return Promise.resolve({ items, revision: this.rev });
  }

  update(o: ApiObject, expectedRevision?: number): Promise<ApiObject> {
    const k = keyString({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
    this.calls.push(`update ${k} @${expectedRevision ?? '-'}`);
    const cur = this.objects.get(k);
    if (cur === undefined) return Promise.reject(new NotFoundError(`${k} not found`));
    if (this.conflictsLeft > 0) {
      this.conflictsLeft -= 1;
      // Someone else wrote in between: the stored revision moves on.
      this.objects.set(k, { ...cur, metadata: { ...cur.metadata, revision: ++this.rev } });
      return Promise.reject(new ConflictError(`${k}: revision moved`));
    }
    if (expectedRevision !== undefined && cur.metadata.revision !== expectedRevision) return Promise.reject(new ConflictError(`${k}: revision moved`));
    const next = { ...o, metadata: { ...o.metadata, revision: ++this.rev } };
    this.objects.set(k, next);
    return Promise.resolve(next);
  }

  delete(key: ObjectKey): Promise<ApiObject> {
    this.calls.push(`delete ${keyString(key)}`);
    const cur = this.objects.get(keyString(key));
    if (cur === undefined) return Promise.reject(new NotFoundError(`${keyString(key)} not found`));
    this.objects.delete(keyString(key));
    return Promise.resolve(cur);
  }

  apply(objects: ApiObject[]): Promise<ApplyResult[]> {
    this.calls.push(`apply ${objects.length}`);
    return Promise.resolve(
      objects.map((o) => {
        const k = keyString({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
        const existed = this.objects.has(k);
        this.objects.set(k, o);
        return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, action: existed ? 'configured' : 'created' };
      }),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Captured output of one run. */
export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** CliDeps around a fake client, capturing stdout and stderr. */
export function fakeDeps(client: FakeClient, stdin = '', env: NodeJS.ProcessEnv = {}): { deps: CliDeps; captured: { out: string; err: string }; configPaths: (string | undefined)[] } {
  const captured = { out: '', err: '' };
  const configPaths: (string | undefined)[] = [];
  const deps: CliDeps = {
    io: {
      out: (s) => void (captured.out += s),
      err: (s) => void (captured.err += s),
      readStdin: () => Promise.resolve(stdin),
    },
    env,
    now: () => NOW,
    openClient: (p) => {
      configPaths.push(p);
      return Promise.resolve(client);
    },
  };
  return { deps, captured, configPaths };
}

/** Runs the CLI once in-process against `client`; returns exit status and output. */
export async function runWithFake(argv: string[], client: FakeClient, opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Captured & { client: FakeClient }> {
  const { deps, captured } = fakeDeps(client, opts.stdin, opts.env);
  const { runCli } = await import('../../src/cli/program.js');
  const code = await runCli(argv, deps);
  return { code, ...captured, client };
}

/** Asserts exactly one stderr line, matching re. */
export function assertOneErrorLine(err: string, re: RegExp): void {
  const lines = err.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got:\n${err}`);
  if (!re.test(lines[0] ?? '')) throw new Error(`stderr ${JSON.stringify(lines[0])} does not match ${re}`);
}
