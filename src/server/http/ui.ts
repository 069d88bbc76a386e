/**
 * The web dashboard's static files (docs/dashboard.md): GET/HEAD /ui, /ui/ and /ui/<asset>,
 * served from dist/ui (built by `npm run build:ui`) WITHOUT authentication: these files hold no
 * data, the page asks the API for everything with the token the user pastes.
 *
 *   /ui, /ui/, /ui/index.html ... index.html, `cache-control: no-cache` (it names the hashed assets)
 *   /ui/main-HASH.js|css ........ `cache-control: public, max-age=31536000, immutable`
 *   /ui/<other known file> ...... `cache-control: no-cache`
 *   a name that is not one flat file name ([A-Za-z0-9._-], no leading dot) ... 404, never read
 *   no dist/ui/index.html ...... 404 "dashboard not built: run npm run build:ui"
 *
 * Only files directly in dist/ui are served (the bundle is flat), so `..`, `%2e%2e`, `/`,
 * `\` and NUL in a name are refused before any file system access.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';

/** Content types of the files the bundle has. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** esbuild's `[name]-[hash]` file names: their content never changes. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The message of the 404 when the bundle is missing. */
export const NOT_BUILT = 'dashboard not built: run npm run build:ui\n';

/** The page may talk to its own origin only; no inline script, no framing. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // Styles set from script (uPlot, preact's style props) go through the CSSOM: no 'unsafe-inline' needed.
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** dist/ui of this checkout: from src/server/http (tsx) or dist/src/server/http (built), the first parent with package.json. */
export function defaultUiDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'ui');
    dir = path.dirname(dir);
  }
  return path.resolve(import.meta.dirname, '../../../dist/ui');
}

/** True for the paths this file serves. */
export function isUiPath(pathname: string): boolean {
  return pathname === '/ui' || pathname.startsWith('/ui/');
}

/** Serves one /ui request (see the file comment). */
export async function serveUi(uiDir: string, pathname: string, method: string, res: ServerResponse): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') {
    return sendText(res, 405, `only GET and HEAD are allowed on ${pathname}\n`, { allow: 'GET, HEAD' });
  }
  if (!isUiPath(pathname)) return sendText(res, 404, `no dashboard file at ${pathname}\n`);
  const rest = pathname === '/ui' ? '' : pathname.slice('/ui/'.length);
  let name: string;
  try {
    name = decodeURIComponent(rest);
  } catch {
    return sendText(res, 400, `bad path ${pathname}: not valid percent-encoding\n`);
  }
  if (name === '') name = 'index.html';
  if (!SAFE_NAME.test(name)) return sendText(res, 404, `no dashboard file ${JSON.stringify(rest)}\n`);
  const index = path.join(uiDir, 'index.html');
  if (!existsSync(index)) return sendText(res, 404, NOT_BUILT);
  const file = path.join(uiDir, name);
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return sendText(res, 404, `no dashboard file ${JSON.stringify(name)}\n`);
  const body = await readFile(file);
  const type = CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  res.end(method === 'HEAD' ? undefined : body);
}

function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
  res.end(text);
}
