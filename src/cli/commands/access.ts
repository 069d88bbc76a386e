/**
 * Users and grants (issue 9):
 *
 *   flotilla user create NAME [--group G]... [-o FILE]   a client config for NAME (like admin.json)
 *   flotilla user delete NAME                            revokes NAME's token at once
 *   flotilla grant create --subject user:N|group:G --role ROLE --namespace NS|* [--label K=V]... [--name NAME]
 *
 * The token is made here and never sent: the User object stores only its SHA-256, so the config
 * printed (or written 0600 to FILE) is the only copy. `get grants` / `get users` list them.
 */
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import type { ApiObject } from '../../api/object.js';
import { validateObject } from '../../api/validate/index.js';
import { loadClientConfig } from '../../client/config.js';
import { newUserToken } from '../../server/auth/rbac/users.js';
import { collect, parseLabelPairs } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { notFound } from './get.js';

interface UserCreateOptions {
  group: string[];
  output?: string;
}

interface GrantCreateOptions {
  subject: string;
  role: string;
  namespace: string;
  label: string[];
  name?: string;
}

/** Registers `user` and `grant`. */
export function registerAccess(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('manage users (bearer-token client configs)');
  user
    .command('create')
    .description('create a user and print (or write) its client config')
    .argument('<name>', 'user name (a DNS label)')
    .option('--group <group>', 'a group of the user (repeatable)', collect, [])
    .option('-o, --output <file>', 'write the client config to FILE (mode 0600) instead of stdout')
    .action((name: string, opts: UserCreateOptions) => createUser(ctx, name, opts));
  user
    .command('delete')
    .description('delete a user: its token is refused from the next request on')
    .argument('<name>', 'user name')
    .action(async (name: string) => {
      const client = await ctx.client();
      const key = { kind: 'User' as const, namespace: '', name };
      if ((await client.get(key)) === undefined) throw notFound('User', name, '');
      await client.delete(key);
      ctx.io.out(`user/${name} deleted\n`);
    });
  program
    .command('grant')
    .description('grant a role to a user or group over a collection')
    .command('create')
    .description('create a Grant')
    .requiredOption('--subject <subject>', 'user:NAME or group:NAME')
    .requiredOption('--role <role>', 'view, edit, secrets, operator, admin, or a Role object')
    .requiredOption('--namespace <ns>', 'the collection\'s namespace ("*": every namespace and cluster-scoped objects such as nodes)')
    .option('--label <k=v>', 'narrow the collection to objects with this label (repeatable)', collect, [])
    .option('--name <name>', 'the Grant\'s name (default: derived from subject, role and collection)')
    .action((opts: GrantCreateOptions) => createGrant(ctx, opts));
}

async function createUser(ctx: CliContext, name: string, opts: UserCreateOptions): Promise<void> {
  const { token, sha256 } = newUserToken(name);
  const user = validateObject({ kind: 'User', metadata: { name }, spec: { groups: opts.group, tokenSha256: sha256 } });
  const client = await ctx.client();
  if ((await client.get({ kind: 'User', namespace: '', name })) !== undefined) throw new UsageError(`user ${name} already exists: delete it first (flotilla user delete ${name}) to issue a new token`);
  await client.apply([user]);
  const own = loadClientConfig(ctx.configPath);
  // Every server of the cluster, as in admin.json: the user's clients fail over too.
  const config = `${JSON.stringify({ server: own.server, ...(own.servers !== undefined ? { servers: own.servers } : {}), ca: own.ca, token }, null, 2)}\n`;
  if (opts.output === undefined) {
    ctx.io.out(config);
    return;
  }
  await fs.writeFile(opts.output, config, { mode: 0o600 });
  await fs.chmod(opts.output, 0o600);
  ctx.io.out(`user/${name} created; client config written to ${opts.output}\n`);
}

async function createGrant(ctx: CliContext, opts: GrantCreateOptions): Promise<void> {
  const labels = parseLabelPairs(opts.label, '--label');
  const collection = { namespace: opts.namespace, ...(opts.label.length > 0 ? { labels } : {}) };
  const name = opts.name ?? grantName(opts.subject, opts.role, collection);
  const grant: ApiObject = validateObject({ kind: 'Grant', metadata: { name }, spec: { subject: opts.subject, role: opts.role, collection } });
  const client = await ctx.client();
  const [result] = await client.apply([grant]);
  ctx.io.out(`grant/${name} ${result?.action ?? 'created'}\n`);
}

/** `ann-view-prod-1a2b3c`: readable, and distinct for distinct collections. */
function grantName(subject: string, role: string, collection: object): string {
  const who = subject.replace(/^(user|group):/, '');
  const ns = (collection as { namespace: string }).namespace.replace('*', 'all');
  const hash = createHash('sha256').update(JSON.stringify([subject, role, collection])).digest('hex').slice(0, 6);
  return `${who}-${role}-${ns}`.slice(0, 55).replace(/-+$/, '') + `-${hash}`;
}
