/**
 * What `flotilla __complete WORD... CURRENT` prints (the shell scripts call it on every TAB, as
 * kubectl and cobra do): candidates for the last word, read from the command tree itself, so a
 * new command, subcommand or option completes without edits here.
 *
 *   words ──> walk: options (skip their values), subcommands, positionals
 *     CURRENT after an option that takes a value  ──> its choices (-o json|yaml...), else nothing (files)
 *     CURRENT starts with "-"                       ──> the options of the command and its parents
 *     the command has subcommands                   ──> their names
 *     a KIND argument                               ──> kind names (plural; "all" for get)
 *     a NAME argument                               ──> object names, listed through the API
 *
 * The kind of a NAME is the KIND argument before it (`get services <TAB>`), else the argument's
 * name or first word of its description (`exec <task>`, `logs <target> 'TASK or ...'`), else a
 * kind in the command path (`node drain <name>`). Listing is best effort: no server, no names.
 */
import type { Argument, Command, Option } from 'commander';
import { PLURAL, resolveKind } from '../../api/kind-names.js';
import { CLUSTER_SCOPED, DEFAULT_NAMESPACE, KINDS, type Kind } from '../../api/object.js';
import { isHidden } from '../help/decorate.js';

/** Lists the names of a kind's objects (namespace undefined: every namespace); [] on any failure. */
export type NameLister = (kind: Kind, namespace: string | undefined, configPath: string | undefined) => Promise<string[]>;

/** One candidate: the word, and a description shells may show beside it. */
export interface Candidate {
  word: string;
  description?: string;
}

interface Walked {
  chain: Command[];
  positionals: string[];
  /** The option whose value CURRENT is, if any. */
  pending: Option | undefined;
  values: Map<string, string>;
  /** After `--`: nothing more to complete. */
  rest: boolean;
}

function optionsOf(chain: Command[]): Option[] {
  return chain.flatMap((c) => c.options.filter((o) => !o.hidden));
}

function findOption(chain: Command[], flag: string): Option | undefined {
  return optionsOf(chain).find((o) => o.long === flag || o.short === flag);
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

/** Walks the words before CURRENT through the tree, as commander would parse them. */
function walk(root: Command, words: string[]): Walked {
  const w: Walked = { chain: [root], positionals: [], pending: undefined, values: new Map(), rest: false };
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const cmd = w.chain[w.chain.length - 1] as Command;
    if (word === '--') {
      w.rest = true;
      break;
    }
    if (word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const opt = findOption(w.chain, eq > 0 ? word.slice(0, eq) : word);
      if (opt === undefined) continue;
      if (!takesValue(opt)) {
        w.values.set(opt.attributeName(), 'true');
        continue;
      }
      if (eq > 0) w.values.set(opt.attributeName(), word.slice(eq + 1));
      else if (i + 1 < words.length) w.values.set(opt.attributeName(), words[++i] as string);
      else w.pending = opt;
      continue;
    }
    const sub = w.positionals.length === 0 ? cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub !== undefined) w.chain.push(sub);
    else w.positionals.push(word);
  }
  return w;
}

function kindWords(): Candidate[] {
  return KINDS.map((k) => ({ word: PLURAL[k], description: k }));
}

/** The kind an argument names: its name, or the first word of its description. */
function kindOfArgument(arg: Argument): Kind | undefined {
  return resolveKind(arg.name()) ?? resolveKind(arg.description.split(/[\s,(]/)[0] ?? '');
}

/** The kind whose names complete NAME: see the module comment. */
function kindForName(w: Walked, arg: Argument): Kind | undefined {
  const prev = w.positionals[w.positionals.length - 1];
  const fromPrev = prev !== undefined ? resolveKind(prev.split('/')[0] ?? '') : undefined;
  if (fromPrev !== undefined) return fromPrev;
  const fromArg = arg.name() !== 'name' ? kindOfArgument(arg) : undefined;
  if (fromArg !== undefined) return fromArg;
  for (const c of [...w.chain].reverse()) {
    const k = resolveKind(c.name());
    if (k !== undefined) return k;
  }
  return undefined;
}

async function argumentCandidates(w: Walked, lister: NameLister): Promise<Candidate[]> {
  const cmd = w.chain[w.chain.length - 1] as Command;
  const args = cmd.registeredArguments;
  const last = args[args.length - 1];
  const arg = args[w.positionals.length] ?? (last?.variadic === true ? last : undefined);
  if (arg === undefined) return [];
  if (arg.argChoices !== undefined) return arg.argChoices.map((c) => ({ word: c }));
  if (arg.name() === 'kind') {
    const only = kindOfArgument(arg);
    if (only !== undefined) return [{ word: only.toLowerCase() }];
    return cmd.name() === 'get' && w.chain.length === 2 ? [{ word: 'all', description: 'every workload kind' }, ...kindWords()] : kindWords();
  }
  const kind = kindForName(w, arg);
  if (kind === undefined) return [];
  const all = w.values.has('allNamespaces') || CLUSTER_SCOPED.has(kind);
  const namespace = all ? undefined : w.values.get('namespace') ?? DEFAULT_NAMESPACE;
  const names = await lister(kind, namespace, w.values.get('config'));
  return names.map((n) => ({ word: n }));
}

/** The candidates for the last of `args` (the word being completed), filtered by its prefix. */
export async function completions(root: Command, args: string[], lister: NameLister): Promise<Candidate[]> {
  const words = args.slice(0, -1).filter((x) => x !== '=');
  const current = args[args.length - 1] ?? '';
  const w = walk(root, words);
  if (w.rest) return [];
  let found: Candidate[];
  if (w.pending !== undefined) found = (w.pending.argChoices ?? []).map((c) => ({ word: c }));
  else if (current.startsWith('-')) {
    found = [...optionsOf(w.chain).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined).map((f) => ({ word: f, description: o.description }))), { word: '--help', description: 'display help for command' }];
  } else {
    const cmd = w.chain[w.chain.length - 1] as Command;
    const subs = cmd.commands.filter((c) => !isHidden(c));
    found = subs.length > 0 && w.positionals.length === 0 ? subs.map((c) => ({ word: c.name(), description: c.description() })) : await argumentCandidates(w, lister);
  }
  return found.filter((c) => c.word.startsWith(current));
}

/** `word\tdescription` lines, as the scripts read them. */
export function completionLines(found: Candidate[]): string {
  return found.map((c) => (c.description !== undefined && c.description !== '' ? `${c.word}\t${c.description.replace(/\s+/g, ' ')}` : c.word)).map((l) => `${l}\n`).join('');
}
