/**
 * `flotilla stack deploy -c compose.yaml STACK | stack ls | stack services STACK | stack rm STACK`:
 * Docker's `stack` commands over Compose files (src/compose turns the file into objects).
 *
 *   deploy: compose file ──> composeToStack (local: schema, mapping, the API's validation)
 *             ──> warnings (one line per field Flotilla does not do) on stderr
 *             ──> list the namespace ──> planDeploy ──> ONE apply (all or nothing; the server's
 *                 issues named by compose field)
 *             ──> held services scaled up in depends_on order once what they wait for is up
 *             ──> stale objects: deleted with --prune, else named
 *   rm:     every object labelled flotilla.dev/stack=STACK, services first
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { ConflictError, ValidationError } from '../../api/errors.js';
import type { ApiObject } from '../../api/object.js';
import type { ServiceSpec } from '../../api/kinds.js';
import { formatWarning } from '../../compose/context.js';
import { STACK_LABEL, isStackName } from '../../compose/names.js';
import { STACK_KINDS, dependencyMet, planDeploy, type HeldStart } from '../../compose/plan.js';
import { composeToStack, type ComposeStack } from '../../compose/stack.js';
import { displayName, nonNegativeInt } from '../args.js';
import type { ApplyResult, CliClient, CliContext } from '../context.js';
import { NotImplementedError, UsageError } from '../errors.js';
import { OUTPUT_FORMATS, renderList, type OutputFormat } from '../format/output.js';
import { renderTable } from '../format/table.js';
import { sleep } from '../../lifecycle.js';
import { POLL_MS, removeStackObjects } from './stack-remove.js';

interface DeployOptions {
  composeFile: string[];
  prune?: boolean;
  timeout: number;
}

function stackArg(name: string): string {
  if (!isStackName(name)) throw new UsageError(`stack name ${JSON.stringify(name)}: expected a DNS label (lowercase letters, digits and "-"): the stack is a namespace of that name`);
  return name;
}

/** Registers `stack` and its subcommands. */
export function registerStack(program: Command, ctx: CliContext): void {
  const stack = program.command('stack').description('deploy and manage stacks of services from Compose files');
  stack.command('deploy')
    .description('create or update a stack from a Compose file (services, secrets, configs, volumes)')
    .argument('<stack>', 'stack name: also the namespace its objects live in')
    .requiredOption('-c, --compose-file <file>', 'Compose file', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--prune', 'delete the objects of the stack that the file no longer has')
    .option('--timeout <seconds>', 'how long a service waits for what it depends_on', nonNegativeInt, 300)
    .action(async (name: string, opts: DeployOptions) => deploy(ctx, stackArg(name), opts));
  stack.command('ls').description('list stacks with their number of services').action(async () => list(ctx));
  stack.command('services')
    .description('list the services of a stack')
    .argument('<stack>', 'stack name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (name: string, opts: { output: OutputFormat }) => services(ctx, stackArg(name), opts.output));
  stack.command('rm')
    .description('remove every object a stack created')
    .argument('<stack...>', 'stack names')
    .option('--timeout <seconds>', 'how long to wait for volumes still in use', nonNegativeInt, 120)
    .action(async (names: string[], opts: { timeout: number }) => {
      for (const n of names) await remove(ctx, stackArg(n), opts.timeout);
    });
}

async function deploy(ctx: CliContext, name: string, opts: DeployOptions): Promise<void> {
  if (opts.composeFile.length > 1) throw new NotImplementedError('stack deploy with several -c files (merge them into one file)');
  const file = opts.composeFile[0] as string;
  let text: string;
  try {
    text = file === '-' ? await ctx.io.readStdin() : readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${file}: no such file or not readable`);
  }
  const dir = file === '-' ? process.cwd() : path.dirname(path.resolve(file));
  const result = composeToStack({ text, file, dir, stack: name, env: ctx.deps.env, readFile: (p) => readFileSync(p) });
  for (const w of result.warnings) ctx.io.err(`${formatWarning(file, w)}\n`);
  const client = await ctx.client();
  const plan = planDeploy(result, await objectsOf(client, { namespace: name }));
  if (plan.conflicts.length > 0) throw new ConflictError(plan.conflicts.join('; '));
  for (const r of await applyStack(client, plan.apply, result)) ctx.io.out(`${displayName(r)} ${r.action}\n`);
  for (const s of plan.starts) await start(ctx, client, name, s, opts.timeout * 1000, file);
  if (opts.prune === true) await removeStackObjects(client, ctx.io, plan.stale, opts.timeout * 1000);
  else for (const o of plan.stale) ctx.io.out(`${o.kind.toLowerCase()}/${o.metadata.name} kept: not in ${file} (stack deploy --prune deletes it)\n`);
}

/** The one apply of the stack; issues the server finds in a document are named by their compose field. */
async function applyStack(client: CliClient, objects: ApiObject[], stack: ComposeStack): Promise<ApplyResult[]> {
  try {
    return await client.apply(objects);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.issues.map((i) => {
      const o = i.document !== undefined ? objects[i.document - 1] : undefined;
      return o === undefined ? i : stack.explain(o, i);
    }));
  }
}

/** Waits for what a held service depends on, then gives it its replicas. */
async function start(ctx: CliContext, client: CliClient, namespace: string, s: HeldStart, timeoutMs: number, file: string): Promise<void> {
  ctx.io.out(`service/${s.service} waiting for ${s.waitFor.map((d) => `${d.on} (${d.condition})`).join(', ')}\n`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deps = await Promise.all(s.waitFor.map(async (d) => ({ d, svc: await client.get({ kind: 'Service', namespace, name: d.on }) })));
    const missing = deps.filter(({ d, svc }) => !dependencyMet(svc, d.condition));
    if (missing.length === 0) break;
    if (Date.now() > deadline) {
      throw new ValidationError([{ file, path: `services.${s.service}.depends_on`, expected: `${missing.map(({ d }) => `${d.on} ${d.condition === 'service_healthy' ? 'healthy' : 'started'}`).join(' and ')} within ${timeoutMs / 1000}s (${s.service} stays at 0 replicas: deploy again once they are up)` }]);
    }
    await sleep(POLL_MS);
  }
  for (let attempt = 0; ; attempt++) {
    const cur = await client.get({ kind: 'Service', namespace, name: s.service });
    if (cur === undefined) throw new UsageError(`service ${s.service} was deleted while it waited for its dependencies`);
    try {
      await client.update({ ...cur, spec: { ...(cur.spec as ServiceSpec), replicas: s.replicas } }, cur.metadata.revision);
      break;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 3) throw err;
    }
  }
  ctx.io.out(`service/${s.service} started with ${s.replicas} replica${s.replicas === 1 ? '' : 's'}\n`);
}

/** The objects of the stack kinds in a namespace (or labelled with one stack, anywhere). */
async function objectsOf(client: CliClient, where: { namespace?: string; stack?: string }): Promise<ApiObject[]> {
  const out: ApiObject[] = [];
  for (const kind of STACK_KINDS) {
    const { items } = await client.list(kind, {
      ...(where.namespace !== undefined ? { namespace: where.namespace } : {}),
      ...(where.stack !== undefined ? { labelSelector: { [STACK_LABEL]: where.stack } } : {}),
    });
    out.push(...items);
  }
  return out;
}

async function list(ctx: CliContext): Promise<void> {
  const client = await ctx.client();
  const stacks = new Map<string, { namespaces: Set<string>; services: number; objects: number }>();
  for (const o of await objectsOf(client, {})) {
    const name = o.metadata.labels[STACK_LABEL];
    if (name === undefined) continue;
    const s = stacks.get(name) ?? { namespaces: new Set<string>(), services: 0, objects: 0 };
    s.namespaces.add(o.metadata.namespace);
    s.objects += 1;
    if (o.kind === 'Service') s.services += 1;
    stacks.set(name, s);
  }
  if (stacks.size === 0) {
    ctx.io.err('No stacks found.\n');
    return;
  }
  const rows = [...stacks.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([n, s]) => [n, String(s.services), String(s.objects), [...s.namespaces].join(',')]);
  ctx.io.out(renderTable(['NAME', 'SERVICES', 'OBJECTS', 'NAMESPACE'], rows));
}

async function services(ctx: CliContext, name: string, output: OutputFormat): Promise<void> {
  const client = await ctx.client();
  const { items } = await client.list('Service', { namespace: name, labelSelector: { [STACK_LABEL]: name } });
  if (items.length === 0 && (output === 'table' || output === 'wide')) {
    ctx.io.err(`Nothing found in stack ${name}.\n`);
    return;
  }
  ctx.io.out(renderList('Service', items, output, { allNamespaces: false, now: ctx.now() }));
}

async function remove(ctx: CliContext, name: string, timeoutSeconds: number): Promise<void> {
  const client = await ctx.client();
  const objects = await objectsOf(client, { stack: name });
  if (objects.length === 0) {
    ctx.io.err(`Nothing found in stack ${name}.\n`);
    return;
  }
  await removeStackObjects(client, ctx.io, objects, timeoutSeconds * 1000);
}
