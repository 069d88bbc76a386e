/**
 * What every command gets: where to write, how to read stdin, the clock, and a lazily opened
 * API client. Tests build it with fakes; main.ts builds it with the real process and ApiClient.
 */
import type { ApiObject, Kind, ObjectKey } from '../api/object.js';
import type { ListOptions, ListResult } from '../store/store.js';

/** Outcome of applying one object, as the server reports it. */
export interface ApplyResult {
  kind: Kind;
  namespace: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
}

/**
 * The part of ApiClient the CLI uses (a narrow interface on the consumer's side, so unit tests
 * can pass a hand-written fake).
 */
export interface CliClient {
  get(key: ObjectKey): Promise<ApiObject | undefined>;
  list(kind: Kind, opts?: ListOptions): Promise<ListResult>;
  update(obj: ApiObject, expectedRevision?: number): Promise<ApiObject>;
  delete(key: ObjectKey, expectedRevision?: number): Promise<ApiObject>;
  apply(objects: ApiObject[]): Promise<ApplyResult[]>;
  close(): Promise<void>;
}

/** Where output goes and where input comes from. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

/** Everything a CLI run depends on from the outside world. */
export interface CliDeps {
  io: CliIO;
  env: NodeJS.ProcessEnv;
  now(): Date;
  /** Opens a client from an explicit --config path (undefined: env, then the default path). */
  openClient(configPath: string | undefined): Promise<CliClient>;
}

/** Per-run context: deps plus the global options and a client opened on first use. */
export class CliContext {
  private opened: Promise<CliClient> | undefined;
  /** Set by main from the global `--config` option before a command runs. */
  configPath: string | undefined;

  constructor(readonly deps: CliDeps) {}

  get io(): CliIO {
    return this.deps.io;
  }

  now(): Date {
    return this.deps.now();
  }

  /** The API client, opened once per run. */
  client(): Promise<CliClient> {
    this.opened ??= this.deps.openClient(this.configPath);
    return this.opened;
  }

  /** Closes the client if one was opened; errors while closing are not the command's failure. */
  async close(): Promise<void> {
    if (this.opened === undefined) return;
    try {
      await (await this.opened).close();
    } catch {
      // The command already finished; a failed close (e.g. never connected) changes nothing.
    }
  }
}
