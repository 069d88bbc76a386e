/**
 * The page's routes live in the URL's hash, so the server serves one file for all of them and
 * a reload stays where it was. Pure: unit-tested in test/dashboard/route.test.ts.
 *
 *   #/ or ''                 overview
 *   #/nodes/NAME             node page
 *   #/services/NS/NAME       service page
 */

/** Where the page is. */
export type Route =
  | { page: 'overview' }
  | { page: 'node'; name: string }
  | { page: 'service'; namespace: string; name: string }
  | { page: 'unknown'; hash: string };

/** Parses `location.hash`. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const parts = path.split('/').filter((p) => p !== '');
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return { page: 'unknown', hash };
  }
  if (decoded.length === 0) return { page: 'overview' };
  if (decoded[0] === 'nodes' && decoded.length === 2) return { page: 'node', name: decoded[1] as string };
  if (decoded[0] === 'services' && decoded.length === 3) return { page: 'service', namespace: decoded[1] as string, name: decoded[2] as string };
  return { page: 'unknown', hash };
}
