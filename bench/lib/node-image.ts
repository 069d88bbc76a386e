/**
 * Files of an image that runs one Node.js HTTP server (for the network benchmark): this machine's
 * node binary, the shared libraries `ldd` names, and a small keep-alive server, on top of the
 * busybox test image (test/helpers/images.ts). A server that does not fork per request, so the
 * benchmark measures the path (direct, VIP, ingress), not busybox httpd's fork.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import type { ImageOptions } from '../../test/helpers/images.js';

/** The server: answers every request with 13 bytes, keep-alive, on PORT (default 8080). */
const SERVER_JS = `const http = require('node:http');
const body = Buffer.from('hello, bench\\n');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 8080), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

/** Absolute paths of the shared libraries (and the loader) a binary needs, from `ldd`. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const paths: string[] = [];
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined) paths.push(m[1]);
  }
  return paths;
}

/** Image options for buildImage: node at /usr/bin/node, its libraries, /srv/server.js. */
export function nodeServerImage(): ImageOptions & { command: string[] } {
  const node = realpathSync(process.execPath);
  const files: Record<string, Buffer | string> = { 'usr/bin/node': readFileSync(node), 'srv/server.js': SERVER_JS };
  const executables = ['usr/bin/node'];
  for (const lib of sharedLibraries(node)) {
    const rel = lib.slice(1);
    files[rel] = readFileSync(realpathSync(lib));
    executables.push(rel);
  }
  return { files, executables, command: ['/usr/bin/node', '/srv/server.js'] };
}
