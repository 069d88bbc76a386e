/**
 * Errors only the image subsystem raises. The common cases reuse src/api/errors.ts:
 * NotFoundError (manifest unknown), UnauthorizedError (no or wrong credentials),
 * UnavailableError (registry unreachable or 5xx: retryable).
 */
import { FlotillaError } from '../../api/errors.js';

/**
 * A blob or manifest whose content does not hash to the digest it was asked by (or has the
 * wrong size). The content is discarded; trying again rarely helps, so it is not retryable.
 */
export class DigestMismatchError extends FlotillaError {
  override readonly status = 502;
  override readonly code = 'DigestMismatch';
  constructor(
    readonly expected: string,
    readonly actual: string,
    what = 'blob',
  ) {
    super(`digest mismatch for ${what} ${expected}: content hashes to ${actual}`);
  }
}

/** The registry answered with something this client cannot use (bad JSON, schema1, zstd). */
export class UnsupportedImageError extends FlotillaError {
  override readonly status = 422;
  override readonly code = 'UnsupportedImage';
}

/** TLS to the registry failed in a way retrying will not fix (unknown CA, wrong host name). */
export class RegistryTlsError extends FlotillaError {
  override readonly status = 502;
  override readonly code = 'RegistryTLS';
}
