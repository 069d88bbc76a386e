/**
 * The version the server reports on /version: package.json's version, and the commit from
 * FLOTILLA_COMMIT when the build or the launcher set it.
 */
import { readFileSync } from 'node:fs';

/** `{version, commit?}` as /version answers. */
export interface VersionInfo {
  version: string;
  commit?: string;
}

/** Reads package.json from the source tree or from dist/ (one level deeper). */
export function versionInfo(): VersionInfo {
  let version = '0.0.0';
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flotilla' && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {
      // try the next location
    }
  }
  const commit = process.env.FLOTILLA_COMMIT;
  return commit !== undefined && commit !== '' ? { version, commit } : { version };
}
