/**
 * `flotilla registry login REGISTRY --username U --password-stdin [--name NAME] [-n NS]`:
 * stores registry credentials as a Secret (src/api/registry-credentials.ts) that tasks pull
 * their images with: named `registry-credentials` by default (then every service of the
 * namespace uses it unless it names an `imagePullSecret`), or NAME for services that name it.
 * The password is read from stdin only (never an argument, so never in `ps` or shell history),
 * sent once, and never printed. Logging in again replaces the credentials (apply).
 */
import type { Command } from 'commander';
import type { ApiObject } from '../../api/object.js';
import { DEFAULT_REGISTRY_SECRET, REGISTRY_SECRET_LABEL, registrySecretData } from '../../api/registry-credentials.js';
import { isDnsLabel } from '../../api/validate/common.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** Options of `registry login`. */
export interface RegistryLoginOptions {
  username: string;
  passwordStdin: boolean;
  name?: string;
  namespace?: string;
}

/** The Secret `registry login` applies (validated arguments; the password as read). */
export function registryLoginSecret(registry: string, opts: RegistryLoginOptions, password: string): ApiObject {
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(registry)) throw new UsageError(`registry login: REGISTRY must be a host or host:port (e.g. 127.0.0.1:5000), found "${registry}"`);
  if (opts.username === '' || opts.username.includes(':')) throw new UsageError('registry login: --username must be non-empty and without ":"');
  if (password === '') throw new UsageError('registry login: the password read from stdin is empty');
  const name = opts.name ?? DEFAULT_REGISTRY_SECRET;
  if (!isDnsLabel(name)) throw new UsageError(`registry login: --name must be a DNS label (lowercase letters, digits, '-'), found "${name}"`);
  return {
    kind: 'Secret',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { [REGISTRY_SECRET_LABEL]: 'registry' } },
    spec: { data: registrySecretData(registry, { username: opts.username, password }) },
  } as unknown as ApiObject;
}

/** Registers `registry login`. */
export function registerRegistryCommands(program: Command, ctx: CliContext): void {
  const registry = program.command('registry').description('registry credentials for image pulls');
  registry
    .command('login')
    .description('store credentials for a registry as a Secret that tasks pull with (the password is read from stdin)')
    .argument('<registry>', 'registry host[:port], as in image references')
    .requiredOption('--username <user>', 'user name')
    .option('--password-stdin', 'read the password from stdin (required)', false)
    .option('--name <secret>', `Secret name (default ${DEFAULT_REGISTRY_SECRET}: the namespace default)`)
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (host: string, opts: RegistryLoginOptions) => {
      if (!opts.passwordStdin) throw new UsageError('registry login: give --password-stdin and the password on stdin (a password argument would show in ps and shell history)');
      const password = (await ctx.io.readStdin()).replace(/\r?\n$/, '');
      const secret = registryLoginSecret(host, opts, password);
      const [r] = await (await ctx.client()).apply([secret]);
      ctx.io.out(`secret/${secret.metadata.name} ${r?.action ?? 'configured'}: credentials of ${opts.username} for registry ${host}${opts.name === undefined ? ` (the default of namespace ${secret.metadata.namespace})` : ` (use it with imagePullSecret: ${secret.metadata.name})`}\n`);
    });
}
