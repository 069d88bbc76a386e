/**
 * Registry credentials kept in a Secret (docs/first-contact.md): what `flotilla registry login`
 * writes and what the agent reads to pull a private image. Two data layouts are understood:
 *
 *   {registry, username, password}     what `flotilla registry login REGISTRY` stores
 *   {.dockerconfigjson}                Docker's config.json: {auths: {HOST: {username, password} | {auth: base64(u:p)}}}
 *
 * A task pulls with its service's `imagePullSecret`, or else with the namespace's Secret named
 * `registry-credentials` when there is one. Values are base64 in the Secret, as every Secret's.
 */

/** The Secret a namespace's tasks pull with when their service names no imagePullSecret. */
export const DEFAULT_REGISTRY_SECRET = 'registry-credentials';

/** Label `registry login` puts on its Secrets (for people and `get secrets -l`). */
export const REGISTRY_SECRET_LABEL = 'flotilla.dev/secret-type';

/** Username and password for one registry. */
export interface RegistryLogin {
  username: string;
  password: string;
}

/** The data of a Secret for one registry (base64 values). */
export function registrySecretData(registry: string, login: RegistryLogin): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return { registry: b64(registry), username: b64(login.username), password: b64(login.password) };
}

/** Registry host as compared: lower case, no scheme, no trailing slash, docker.io aliases folded. */
export function normalizeRegistry(host: string): string {
  const h = host.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}

/** Why a Secret's data is not registry credentials (thrown by credentialsFromSecret). */
export class RegistrySecretError extends Error {}

/**
 * The login for `registry` in a Secret's (base64) data; undefined when the Secret holds
 * credentials for other registries only. Throws RegistrySecretError when the data is neither layout.
 */
export function credentialsFromSecret(data: Record<string, string>, registry: string): RegistryLogin | undefined {
  const text = (k: string): string | undefined => (data[k] !== undefined ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const want = normalizeRegistry(registry);
  const docker = text('.dockerconfigjson');
  if (docker !== undefined) {
    let auths: Record<string, { username?: string; password?: string; auth?: string }>;
    try {
      auths = (JSON.parse(docker) as { auths?: typeof auths }).auths ?? {};
    } catch {
      throw new RegistrySecretError('.dockerconfigjson is not JSON');
    }
    const entry = Object.entries(auths).find(([h]) => normalizeRegistry(h) === want)?.[1];
    if (entry === undefined) return undefined;
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
    const pair = Buffer.from(entry.auth ?? '', 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new RegistrySecretError(`.dockerconfigjson: the entry for ${want} has neither username/password nor auth`);
    return { username: pair.slice(0, colon), password: pair.slice(colon + 1) };
  }
  const [reg, username, password] = [text('registry'), text('username'), text('password')];
  if (username === undefined || password === undefined) throw new RegistrySecretError('expected keys registry, username and password (flotilla registry login) or .dockerconfigjson');
  if (reg !== undefined && normalizeRegistry(reg) !== want) return undefined;
  return { username, password };
}
