/**
 * A compose file into the objects of one stack (the entry point of src/compose):
 *
 *   loadCompose (YAML, ${VAR} from the environment and the .env file beside, compose-spec schema)
 *     ──> mapTopLevel: Secret, Config, Volume objects; networks warnings
 *     ──> mapService per service: Service objects
 *     ──> depends_on: the start order (a cycle or an unknown service is an issue)
 *     ──> every object through the API's own validateObject: issues named by compose field
 *     ──> { objects, warnings, dependsOn, order }   or one ValidationError with every issue
 */
import path from 'node:path';
import { ValidationError, type ValidationIssue } from '../api/errors.js';
import type { ApiObject } from '../api/object.js';
import { validateObject } from '../api/validate/index.js';
import { pathString } from '../api/validate/issues.js';
import { MapContext, rawFound, type ComposeWarning, type Path } from './context.js';
import { loadCompose } from './load.js';
import { parseDotenv } from './map-env.js';
import type { StackNames } from './map-mounts.js';
import { mapService, type MappedObject } from './map-service.js';
import { mapTopLevel } from './map-top.js';
import type { ComposeProject } from './model.js';
import { serviceName } from './names.js';

/** `api` waits for `db` (its readiness, or only its start) before it gets its replicas. */
export interface StackDependency {
  service: string;
  on: string;
  condition: 'service_started' | 'service_healthy';
}

/** What `stack deploy` sends, and what it must tell the user. */
export interface ComposeStack {
  stack: string;
  objects: ApiObject[];
  warnings: ComposeWarning[];
  dependencies: StackDependency[];
  /** An issue the server found in one of `objects`, named by the compose field it came from. */
  explain(object: ApiObject, issue: ValidationIssue): ValidationIssue;
}

/** Inputs of one conversion. */
export interface ComposeInput {
  text: string;
  file: string;
  dir: string;
  stack: string;
  env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): Buffer;
}

/** Converts a compose file into the stack's objects; throws ValidationError listing every issue. */
export function composeToStack(input: ComposeInput): ComposeStack {
  const env = { ...dotenvBeside(input), ...input.env };
  const { project, lineOf } = loadCompose(input.text, input.file, env);
  const ctx = new MapContext({ file: input.file, dir: input.dir, stack: input.stack, env, readFile: input.readFile, lineOf });
  const names: StackNames = { secrets: new Map(), configs: new Map(), volumes: new Map() };
  const mapped = mapTopLevel(ctx, project, names);
  const services = project.services ?? {};
  if (Object.keys(services).length === 0) ctx.issue(['services'], 'at least one service', rawFound('none'));
  for (const [name, svc] of Object.entries(services)) {
    if (serviceName(ctx, ['services', name], name) === undefined) continue;
    mapped.push(mapService(ctx, name, svc, names));
  }
  unreachableWarnings(ctx, project);
  const dependencies = dependenciesOf(ctx, project);
  const issues: ValidationIssue[] = [...ctx.issues];
  const objects: ApiObject[] = [];
  if (issues.length === 0) {
    for (const m of mapped) {
      try {
        objects.push(validateObject(m.object));
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        issues.push(...err.issues.map((i) => composeIssue(ctx, m, i)));
      }
    }
  }
  if (issues.length > 0) throw new ValidationError(issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity)));
  const explain = (object: ApiObject, issue: ValidationIssue): ValidationIssue => {
    const m = mapped.find((x) => x.object.kind === object.kind && x.object.metadata.name === object.metadata.name);
    return m === undefined ? issue : composeIssue(ctx, m, issue);
  };
  return { stack: input.stack, objects, warnings: ctx.warnings, dependencies, explain };
}

/** The `.env` file beside the compose file, as Compose reads it for interpolation (the environment wins). */
function dotenvBeside(input: ComposeInput): Record<string, string> {
  try {
    return parseDotenv(input.readFile(path.join(input.dir, '.env')).toString('utf8'));
  } catch {
    return {};
  }
}

/** `[0].port` -> [0, 'port']. */
function suffixPath(suffix: string): Path {
  return [...suffix.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : (m[2] as string)));
}

/** An issue of the API's validation of a mapped object, named by the compose field it came from. */
function composeIssue(ctx: MapContext, m: MappedObject, i: ValidationIssue): ValidationIssue {
  const origin = m.origins
    .filter((o) => o.field === '' || i.path === o.field || i.path.startsWith(`${o.field}.`) || i.path.startsWith(`${o.field}[`))
    .sort((a, b) => b.field.length - a.field.length)[0];
  const compose = origin === undefined ? m.compose : origin.keepSuffix === true ? [...origin.compose, ...suffixPath(i.path.slice(origin.field.length))] : origin.compose;
  const line = ctx.opts.lineOf(compose);
  const out: ValidationIssue = { file: ctx.opts.file, path: pathString(compose), expected: `${i.expected} (Flotilla's ${m.object.kind} ${i.path})` };
  if (i.found !== undefined) out.found = i.found;
  if (line !== undefined) out.line = line;
  return out;
}

/** Services other services depend on but that declare no port: their name leads nowhere. */
function unreachableWarnings(ctx: MapContext, project: ComposeProject): void {
  const services = project.services ?? {};
  const targets = new Set<string>();
  for (const svc of Object.values(services)) {
    const d = svc.depends_on;
    for (const on of d === undefined ? [] : Array.isArray(d) ? d : Object.keys(d)) targets.add(on);
  }
  for (const name of targets) {
    const svc = services[name];
    if (svc !== undefined && (svc.ports ?? []).length === 0 && (svc.expose ?? []).length === 0) {
      ctx.warn(['services', name], 'no ports or expose: its virtual IP forwards declared ports only, so other services cannot connect to it by name; list its port under expose');
    }
  }
}

/** depends_on as start-order edges; unknown services, cycles and unsupported conditions are reported. */
function dependenciesOf(ctx: MapContext, project: ComposeProject): StackDependency[] {
  const services = project.services ?? {};
  const out: StackDependency[] = [];
  for (const [name, svc] of Object.entries(services)) {
    const d = svc.depends_on;
    if (d === undefined) continue;
    if (svc.deploy?.mode === 'global') ctx.warn(['services', name, 'depends_on'], 'not honoured for mode: global (a global service cannot wait at 0 replicas): it starts at once');
    const entries = Array.isArray(d) ? d.map((on) => [on, { condition: 'service_started' }] as const) : Object.entries(d);
    for (const [on, opts] of entries) {
      const path: Path = ['services', name, 'depends_on', ...(Array.isArray(d) ? [d.indexOf(on)] : [on])];
      if (services[on] === undefined) {
        ctx.issue(path, 'a service of this file', on);
        continue;
      }
      const condition = opts.condition ?? 'service_started';
      if (condition === 'service_completed_successfully') {
        ctx.warn(path, 'condition service_completed_successfully is not supported (no jobs yet): waits for service_started');
      } else if (condition !== 'service_started' && condition !== 'service_healthy') {
        ctx.issue([...path, 'condition'], 'service_started, service_healthy or service_completed_successfully', condition);
        continue;
      }
      if ('restart' in opts && opts.restart !== undefined) ctx.warn([...path, 'restart'], 'not supported: a dependency\'s update does not restart this service');
      out.push({ service: name, on, condition: condition === 'service_healthy' ? 'service_healthy' : 'service_started' });
    }
  }
  const cycle = findCycle(out);
  if (cycle !== undefined) ctx.issue(['services', cycle[0] as string, 'depends_on'], 'no cycle of depends_on', rawFound(cycle.join(' -> ')));
  return out;
}

/** A depends_on cycle (a -> b -> a), if any. */
function findCycle(deps: StackDependency[]): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const d of deps) edges.set(d.service, [...(edges.get(d.service) ?? []), d.on]);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, trail: string[]): string[] | undefined => {
    if (state.get(n) === 'open') return [...trail.slice(trail.indexOf(n)), n];
    if (state.get(n) === 'done') return undefined;
    state.set(n, 'open');
    for (const m of edges.get(n) ?? []) {
      const c = visit(m, [...trail, n]);
      if (c !== undefined) return c;
    }
    state.set(n, 'done');
    return undefined;
  };
  for (const n of edges.keys()) {
    const c = visit(n, []);
    if (c !== undefined) return c;
  }
  return undefined;
}
