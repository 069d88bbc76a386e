/**
 * How the CLI turns any failure into exit status and one clear stderr line per problem.
 * Typed errors from src/api/errors.ts decide the wording; a stack trace only with FLOTILLA_DEBUG=1.
 */
import { CommanderError } from 'commander';
import { FlotillaError, ValidationError, formatIssue } from '../api/errors.js';

/** Exit status for failures of the request itself (not found, invalid, conflict, unreachable). */
export const EXIT_FAILURE = 1;
/** Exit status for wrong usage and for commands that are not supported yet. */
export const EXIT_USAGE = 2;

/** Wrong arguments found after parsing (combinations commander cannot check). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that is registered with its flags but whose work is not written yet. */
export class NotImplementedError extends Error {
  constructor(what: string) {
    super(`${what}: not supported yet`);
    this.name = 'NotImplementedError';
  }
}

/**
 * A command ran to its end and its own exit status is the CLI's (`flotilla exec`): exit with
 * it, printing only the message, if any.
 */
export class CommandExitError extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message);
    this.name = 'CommandExitError';
  }
}

/** Several independent failures (e.g. `delete -f` where two objects were missing). */
export class MultiError extends Error {
  constructor(readonly errors: unknown[]) {
    super(`${errors.length} errors`);
    this.name = 'MultiError';
  }
}

/** The exit status an error maps to. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  if (err instanceof CommandExitError) return err.exitCode;
  if (err instanceof UsageError || err instanceof NotImplementedError) return EXIT_USAGE;
  if (err instanceof MultiError) return Math.max(EXIT_FAILURE, ...err.errors.map(exitCodeOf));
  return EXIT_FAILURE;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
};

/** The stderr lines for an error: one per problem, each starting with `error: `. */
export function errorLines(err: unknown): string[] {
  if (err instanceof MultiError) return err.errors.flatMap(errorLines);
  if (err instanceof CommandExitError) return err.message === '' ? [] : firstLines(err.message);
  if (err instanceof ValidationError) {
    const lines = err.issues.length > 0 ? err.issues.map(formatIssue) : [err.message];
    return lines.map((l) => `error: ${l}`);
  }
  if (err instanceof FlotillaError || err instanceof UsageError || err instanceof NotImplementedError) {
    return firstLines(err.message);
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in NETWORK_CODES) {
    const addr = describeAddress(err);
    return [`error: cannot reach the API server${addr}: ${NETWORK_CODES[code]}`];
  }
  if (err instanceof Error) {
    // fetch() wraps the network failure in `cause`.
    if (err.cause !== undefined && err.message === 'fetch failed') return errorLines(err.cause);
    return firstLines(err.message);
  }
  return [`error: ${String(err)}`];
}

function firstLines(message: string): string[] {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  return (lines.length > 0 ? lines : ['unknown error']).map((l) => `error: ${l}`);
}

function describeAddress(err: unknown): string {
  const e = err as { address?: unknown; port?: unknown };
  if (typeof e.address !== 'string') return '';
  return typeof e.port === 'number' ? ` at ${e.address}:${e.port}` : ` at ${e.address}`;
}
