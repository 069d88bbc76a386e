/**
 * Typed errors decide control flow (STYLE.md 8). Every error carries the HTTP status the API
 * answers with and a `code` that survives the trip through JSON, so the CLI can rebuild it.
 */

/** One problem found while validating input: where it is and what was expected. */
export interface ValidationIssue {
  /** File the input came from, when it came from a file (`-` for stdin). */
  file?: string;
  /** 1-based index of the document in a multi-document YAML file. */
  document?: number;
  /** 1-based line in the file, when known. */
  line?: number;
  /** Field path, e.g. `spec.resources.limits.memory`. */
  path: string;
  /** What the field should hold. */
  expected: string;
  /** What was found instead (rendered short). */
  found?: string;
}

/** Base of all errors Flotilla raises on purpose. */
export class FlotillaError extends Error {
  readonly status: number = 500;
  readonly code: string = 'Internal';
  /** True when trying again later may succeed (network, leader change, store unavailable). */
  readonly retryable: boolean = false;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
  toJSON(): Record<string, unknown> {
    return { code: this.code, status: this.status, message: this.message };
  }
}

export class NotFoundError extends FlotillaError {
  override readonly status = 404;
  override readonly code = 'NotFound';
}

/** An expected revision moved, or an object already exists where a create was asked. */
export class ConflictError extends FlotillaError {
  override readonly status = 409;
  override readonly code = 'Conflict';
}

export class AlreadyExistsError extends FlotillaError {
  override readonly status = 409;
  override readonly code = 'AlreadyExists';
}

/** A watch asked for a revision the store no longer keeps history for: re-list, then watch. */
export class GoneError extends FlotillaError {
  override readonly status = 410;
  override readonly code = 'Gone';
}

export class UnauthorizedError extends FlotillaError {
  override readonly status = 401;
  override readonly code = 'Unauthorized';
}

export class ForbiddenError extends FlotillaError {
  override readonly status = 403;
  override readonly code = 'Forbidden';
}

export class BadRequestError extends FlotillaError {
  override readonly status = 400;
  override readonly code = 'BadRequest';
}

/** The store or a peer cannot be reached right now (or the store's disk is full): try again later. */
export class UnavailableError extends FlotillaError {
  override readonly status = 503;
  override readonly code = 'Unavailable';
  override readonly retryable = true;
  /** Seconds a client should wait before trying again: the API's Retry-After header. */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Input that does not match the schema; lists every issue found, never just the first. */
export class ValidationError extends FlotillaError {
  override readonly status = 422;
  override readonly code = 'Invalid';
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** `web.yaml, document 2, line 7: spec.replicas: expected an integer >= 0, found -1` */
export function formatIssue(i: ValidationIssue): string {
  const where: string[] = [];
  if (i.file !== undefined) where.push(i.file);
  if (i.document !== undefined) where.push(`document ${i.document}`);
  if (i.line !== undefined) where.push(`line ${i.line}`);
  const prefix = where.length > 0 ? `${where.join(', ')}: ` : '';
  const found = i.found !== undefined ? `, found ${i.found}` : '';
  return `${prefix}${i.path || '(document)'}: expected ${i.expected}${found}`;
}

const byCode: Record<string, new (message: string) => FlotillaError> = {
  NotFound: NotFoundError,
  Conflict: ConflictError,
  AlreadyExists: AlreadyExistsError,
  Gone: GoneError,
  Unauthorized: UnauthorizedError,
  Forbidden: ForbiddenError,
  BadRequest: BadRequestError,
  Unavailable: UnavailableError,
};

/** Rebuilds a typed error from the JSON body the API sent. */
export function errorFromJSON(body: { code?: string; message?: string; issues?: ValidationIssue[] }): FlotillaError {
  if (body.code === 'Invalid' && Array.isArray(body.issues)) return new ValidationError(body.issues);
  const Ctor = body.code !== undefined ? byCode[body.code] : undefined;
  return Ctor !== undefined ? new Ctor(body.message ?? body.code ?? 'error') : new FlotillaError(body.message ?? 'error');
}

/** True for errors worth retrying with backoff (the single place that decides it). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FlotillaError) return err.retryable;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(code);
}
