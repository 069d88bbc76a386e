/**
 * What every mapping step gets: the stack, the compose file's directory, the environment, a
 * file reader, and two sinks: `warn` for what Flotilla cannot do (one line each: field and why)
 * and `issue` for what is wrong in the file (collected, then thrown as one ValidationError).
 */
import type { ValidationIssue } from '../api/errors.js';
import { pathString, renderValue } from '../api/validate/issues.js';

export type Path = (string | number)[];

/** One thing of the compose file that Flotilla does not do: the field and why. */
export interface ComposeWarning {
  path: string;
  reason: string;
}

/** `compose.yaml: services.web.cap_add: not supported: ...`, as `stack deploy` prints it. */
export function formatWarning(file: string, w: ComposeWarning): string {
  return `warning: ${file}: ${w.path}: ${w.reason}`;
}

/** Inputs and sinks of one mapping run. */
export class MapContext {
  readonly warnings: ComposeWarning[] = [];
  readonly issues: ValidationIssue[] = [];

  constructor(readonly opts: {
    /** The compose file as named on the command line (used in messages). */
    file: string;
    /** Directory relative `file:` / `env_file:` / bind paths resolve against. */
    dir: string;
    stack: string;
    env: Readonly<Record<string, string | undefined>>;
    readFile(path: string): Buffer;
    lineOf(path: Path): number | undefined;
  }) {}

  get stack(): string {
    return this.opts.stack;
  }

  warn(path: Path, reason: string): void {
    this.warnings.push({ path: pathString(path), reason });
  }

  /** Records a problem of the file at `path` (compose field path): expected this, found that. */
  issue(path: Path, expected: string, found?: unknown): void {
    const i: ValidationIssue = { file: this.opts.file, path: pathString(path), expected };
    if (found !== undefined) i.found = typeof found === 'string' && found.startsWith('\u0000') ? found.slice(1) : renderValue(found);
    const line = this.opts.lineOf(path);
    if (line !== undefined) i.line = line;
    this.issues.push(i);
  }
}

/** A `found` text given as is (not rendered as a value). */
export function rawFound(text: string): string {
  return `\u0000${text}`;
}
