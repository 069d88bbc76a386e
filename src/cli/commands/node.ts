/**
 * `flotilla node drain|cordon|uncordon|recycle NAME` (recycle: the request annotation the recycle
 * controller acts on) and `flotilla node label NAME K=V... [K-]`: a
 * read-modify-write of the Node's spec.availability or labels with the read revision as the
 * expected one. Agents heartbeat every few seconds (a status write that moves the revision), so
 * a conflict is read again and retried a few times. The server's loops do the rest: the
 * scheduler stops placing on a paused or draining node; the node controller moves tasks off a
 * draining node and off a node whose labels no longer match their constraints.
 */
import type { Command } from 'commander';
import { ConflictError } from '../../api/errors.js';
import { RECYCLE_REQUEST_ANNOTATION, type NodeObject, type NodeSpec } from '../../api/kinds.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { notFound } from './get.js';
import { registerNodePrune } from './node-prune.js';

/** Attempts of one read-modify-write before a conflict is reported. */
const ATTEMPTS = 5;

/** What each availability command sets, and the word it prints. */
const AVAILABILITY: Record<string, { availability: NodeSpec['availability']; done: string }> = {
  drain: { availability: 'drain', done: 'drained' },
  cordon: { availability: 'pause', done: 'cordoned' },
  uncordon: { availability: 'active', done: 'uncordoned' },
};

/** Label changes from the command line: `K=V` sets, `K-` removes. */
export interface LabelChanges {
  set: Record<string, string>;
  remove: string[];
}

/** Parses `K=V` and `K-` arguments; anything else is a usage error. */
export function parseLabelChanges(args: readonly string[]): LabelChanges {
  const out: LabelChanges = { set: {}, remove: [] };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) out.set[a.slice(0, eq)] = a.slice(eq + 1);
    else if (eq < 0 && a.length > 1 && a.endsWith('-')) out.remove.push(a.slice(0, -1));
    else throw new UsageError(`node label: expected KEY=VALUE or KEY-, found "${a}"`);
  }
  return out;
}

/** The labels after the changes. */
export function applyLabelChanges(labels: Record<string, string>, c: LabelChanges): Record<string, string> {
  const next = { ...labels, ...c.set };
  for (const k of c.remove) delete next[k];
  return next;
}

/** Reads the node, changes it, writes it with the read revision; retries conflicts. */
async function updateNode(client: CliClient, name: string, change: (n: NodeObject) => NodeObject | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const cur = (await client.get({ kind: 'Node', namespace: '', name })) as NodeObject | undefined;
    if (cur === undefined) throw notFound('Node', name, '');
    const next = change(cur);
    if (next === undefined) return;
    try {
      await client.update(next, cur.metadata.revision);
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= ATTEMPTS) throw err;
    }
  }
}

/** The node with the recycle request annotation (undefined when already asked: idempotent). */
export function requestRecycle(n: NodeObject, nowMs: number): NodeObject | undefined {
  if (n.metadata.annotations?.[RECYCLE_REQUEST_ANNOTATION] !== undefined) return undefined;
  const annotations = { ...n.metadata.annotations, [RECYCLE_REQUEST_ANNOTATION]: new Date(nowMs).toISOString() };
  return { ...n, metadata: { ...n.metadata, annotations } };
}

/** Registers `node drain|cordon|uncordon|label|recycle`. */
export function registerNode(program: Command, ctx: CliContext): void {
  const node = program.command('node').description('manage nodes');
  for (const [action, what] of Object.entries(AVAILABILITY)) {
    node
      .command(action)
      .description(`set the node's availability to ${what.availability}`)
      .argument('<name>', 'node name')
      .action(async (name: string) => {
        await updateNode(await ctx.client(), name, (n) =>
          n.spec.availability === what.availability ? undefined : { ...n, spec: { ...n.spec, availability: what.availability } });
        ctx.io.out(`node/${name} ${what.done}\n`);
      });
  }
  node
    .command('label')
    .description('set node labels (K=V) or remove them (K-)')
    .argument('<name>', 'node name')
    .argument('<labels...>', 'K=V or K-')
    .action(async (name: string, args: string[]) => {
      const changes = parseLabelChanges(args);
      await updateNode(await ctx.client(), name, (n) => ({ ...n, metadata: { ...n.metadata, labels: applyLabelChanges(n.metadata.labels ?? {}, changes) } }));
      ctx.io.out(`node/${name} labeled\n`);
    });
  node
    .command('recycle')
    .description('recycle the node now: provisioner hook, cordon, drain (replacements first), remove it, revoke its certificate')
    .argument('<name>', 'node name')
    .action(async (name: string) => {
      await updateNode(await ctx.client(), name, (n) => requestRecycle(n, ctx.now().getTime()));
      ctx.io.out(`node/${name} recycle requested (flotilla describe node ${name} shows its progress)\n`);
    });
  registerNodePrune(node, ctx);
}
