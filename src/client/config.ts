/**
 * The client config every command and remote component starts from: which server, which CA to
 * trust, which credential. `flotilla server` writes the admin one to DATA_DIR/admin.json.
 */
import { readFileSync } from 'node:fs';
import { FlotillaError } from '../api/errors.js';

/** Contents of admin.json (and of node configs later: cert + key instead of a token). */
export interface ClientConfig {
  /** `https://127.0.0.1:6443`: the server tried first (the first of `servers` when only that is given). */
  server: string;
  /**
   * Every server of the cluster (servers on one etcd): clients fail over between them on
   * connection errors (src/client/transport.ts). Optional; `server` alone is one server.
   */
  servers?: string[];
  /** PEM of the cluster CA: the only CA the client trusts. */
  ca: string;
  /** Bearer token. */
  token?: string;
  /** PEM client certificate and its key (nodes). */
  cert?: string;
  key?: string;
}

/** The config file is missing or malformed. */
export class ClientConfigError extends FlotillaError {
  override readonly status = 400;
  override readonly code = 'ClientConfig';
}

/** Where `flotilla server` writes the admin config by default. */
export const DEFAULT_CONFIG_PATH = '/var/lib/flotilla/admin.json';

/** Which file loadClientConfig reads: explicit path, else $FLOTILLA_CONFIG, else the default. */
export function clientConfigPath(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const env = process.env.FLOTILLA_CONFIG;
  return env !== undefined && env !== '' ? env : DEFAULT_CONFIG_PATH;
}

/** Every server URL of a config, `server` first, without repeats: the order clients try them in. */
export function serverUrls(config: Pick<ClientConfig, 'server' | 'servers'>): string[] {
  return [...new Set([config.server, ...(config.servers ?? [])].map((u) => u.replace(/\/+$/, '')))];
}

/** Reads and checks a client config; ClientConfigError says which file and what is wrong. */
export function loadClientConfig(path?: string): ClientConfig {
  const file = clientConfigPath(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (err as Error).message;
    throw new ClientConfigError(`client config ${file} ${why}: start a server (it writes DATA_DIR/admin.json), or pass --config FILE or set FLOTILLA_CONFIG`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ClientConfigError(`client config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return checkConfig(raw, file);
}

function checkConfig(raw: unknown, file: string): ClientConfig {
  const c = raw as Partial<Record<keyof ClientConfig, unknown>>;
  const bad = (field: string, expected: string): never => {
    throw new ClientConfigError(`client config ${file}: ${field}: expected ${expected}`);
  };
  if (typeof c !== 'object' || c === null) bad('(document)', 'a JSON object');
  const isUrl = (v: unknown): v is string => typeof v === 'string' && /^https:\/\/\S+$/.test(v);
  if (c.servers !== undefined) {
    if (!Array.isArray(c.servers) || c.servers.length === 0) bad('servers', 'a non-empty list of https:// URLs');
    (c.servers as unknown[]).forEach((u, i) => { if (!isUrl(u)) bad(`servers[${i}]`, `an https:// URL, found ${JSON.stringify(u)}`); });
    if (c.server === undefined) c.server = (c.servers as string[])[0];
  }
  if (!isUrl(c.server)) bad('server', c.servers === undefined ? 'an https:// URL (or "servers": a list of them)' : 'an https:// URL');
  if (typeof c.ca !== 'string' || !c.ca.includes('BEGIN CERTIFICATE')) bad('ca', 'the PEM of the cluster CA');
  for (const f of ['token', 'cert', 'key'] as const) if (c[f] !== undefined && typeof c[f] !== 'string') bad(f, 'a string');
  if (c.token === undefined && (c.cert === undefined || c.key === undefined)) bad('token', 'a token, or cert and key');
  return c as ClientConfig;
}
