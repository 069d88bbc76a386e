/**
 * The top-level `secrets`, `configs` and `volumes` into the stack's Secret, Config and Volume
 * objects (files read relative to the compose file), or references to existing objects
 * (`external: true`, created by nobody here and never removed by `stack rm`); and `networks`
 * into what Flotilla does: the stack is one namespace, so every service reaches every other.
 */
import path from 'node:path';
import { DNS_LABEL_RULE, isDnsLabel } from '../api/validate/common.js';
import { rawFound, type MapContext, type Path } from './context.js';
import { labelMap } from './map-env.js';
import type { MappedObject } from './map-service.js';
import type { StackNames } from './map-mounts.js';
import type { ComposeFileObject, ComposeProject } from './model.js';
import { STACK_LABEL, objectName } from './names.js';
import { boolean } from './units.js';

function isExternal(ctx: MapContext, p: Path, v: ComposeFileObject['external']): { external: boolean; name?: string } {
  if (v === undefined) return { external: false };
  if (typeof v === 'object') return { external: true, ...(v.name !== undefined ? { name: v.name } : {}) };
  return { external: boolean(ctx, p, v) === true };
}

function metadataOf(ctx: MapContext, name: string, labels: unknown): Record<string, unknown> {
  const annotations = labelMap(labels as Record<string, string> | undefined);
  return { name, namespace: ctx.stack, labels: { [STACK_LABEL]: ctx.stack }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

/** Secrets and configs: the objects to create, and the Flotilla name of each compose name. */
function fileObjects(ctx: MapContext, kind: 'Secret' | 'Config', entries: Record<string, ComposeFileObject> | undefined, names: Map<string, string>, out: MappedObject[]): void {
  const top = kind === 'Secret' ? 'secrets' : 'configs';
  for (const [key, def] of Object.entries(entries ?? {})) {
    const base: Path = [top, key];
    const ext = isExternal(ctx, [...base, 'external'], def.external);
    const name = objectName(ext.external ? ext.name ?? def.name ?? key : def.name ?? key);
    if (!isDnsLabel(name)) {
      ctx.issue(def.name !== undefined ? [...base, 'name'] : base, `a name that is ${DNS_LABEL_RULE} once "_" and "." are written "-"`, name);
      names.set(key, '');
      continue;
    }
    names.set(key, name);
    if (ext.external) continue;
    for (const field of ['driver', 'driver_opts', 'template_driver']) {
      if (def[field] !== undefined) ctx.warn([...base, field], `not supported: the ${kind.toLowerCase()} is stored by the Flotilla server${kind === 'Secret' ? ' (encrypted)' : ''}`);
    }
    let value: Buffer | undefined;
    let dataKey = key;
    if (def.file !== undefined) {
      const full = path.resolve(ctx.opts.dir, def.file);
      dataKey = path.basename(full);
      try {
        value = ctx.opts.readFile(full);
      } catch {
        ctx.issue([...base, 'file'], `a file that exists and can be read (${full})`, def.file);
        continue;
      }
    } else if (def.environment !== undefined) {
      const v = ctx.opts.env[def.environment];
      if (v === undefined) {
        ctx.issue([...base, 'environment'], `the environment variable ${def.environment} to be set`, rawFound('it unset'));
        continue;
      }
      value = Buffer.from(v, 'utf8');
    } else if (def.content !== undefined) {
      value = Buffer.from(def.content, 'utf8');
    } else {
      ctx.issue(base, 'one of file, environment, content or external: true', def);
      continue;
    }
    const data = kind === 'Secret' ? { [dataKey]: value.toString('base64') } : { [dataKey]: value.toString('utf8') };
    out.push({ object: { kind, metadata: metadataOf(ctx, name, def.labels), spec: { data } }, compose: base, origins: [{ field: 'metadata', compose: base }, { field: 'spec', compose: [...base, def.file !== undefined ? 'file' : 'content'] }] });
  }
}

/** The named volumes: Volume objects (driver local) or external references. */
function volumeObjects(ctx: MapContext, project: ComposeProject, names: Map<string, string>, out: MappedObject[]): void {
  for (const [key, def0] of Object.entries(project.volumes ?? {})) {
    const def = def0 ?? {};
    const base: Path = ['volumes', key];
    const ext = isExternal(ctx, [...base, 'external'], def.external);
    const name = objectName(ext.external ? ext.name ?? def.name ?? key : def.name ?? key);
    if (!isDnsLabel(name)) {
      ctx.issue(base, `a volume name that is ${DNS_LABEL_RULE} once "_" and "." are written "-"`, name);
      names.set(key, '');
      continue;
    }
    names.set(key, name);
    if (ext.external) continue;
    if (def.driver !== undefined && def.driver !== 'local') ctx.warn([...base, 'driver'], `${def.driver} is not supported: a local volume (a directory on the node of its first task) is used`);
    if (def.driver_opts !== undefined) ctx.warn([...base, 'driver_opts'], 'not supported: a local volume is a plain directory');
    out.push({ object: { kind: 'Volume', metadata: metadataOf(ctx, name, def.labels), spec: { driver: 'local' } }, compose: base, origins: [{ field: '', compose: base }] });
  }
}

/** Networks: one namespace for the stack; warnings for isolation and options Flotilla does not do. */
function networkWarnings(ctx: MapContext, project: ComposeProject): void {
  const declared = Object.keys(project.networks ?? {});
  for (const key of declared) {
    const def = project.networks?.[key] ?? {};
    const base: Path = ['networks', key];
    if (def.external !== undefined && def.external !== false && def.external !== 'false') {
      ctx.warn(base, `an external network cannot be joined: services reach other stacks as NAME.NAMESPACE instead`);
      continue;
    }
    for (const field of Object.keys(def)) {
      if (!['name', 'labels', 'external'].includes(field) && !field.startsWith('x-')) ctx.warn([...base, field], 'not supported: the stack\'s services share the cluster network');
    }
  }
  if (declared.length > 1) ctx.warn(['networks'], `${declared.join(', ')} are not isolated from each other: the stack is one namespace (${ctx.stack}) and every service reaches every other`);
  for (const [name, svc] of Object.entries(project.services ?? {})) {
    if (svc.networks === undefined || Array.isArray(svc.networks)) continue;
    Object.entries(svc.networks).forEach(([net, opts]) => {
      if (opts !== null && typeof opts === 'object' && Object.keys(opts).length > 0) ctx.warn(['services', name, 'networks', net], `${Object.keys(opts).join(', ')} not supported: left out`);
    });
  }
}

/** Maps the top level; returns the objects and fills `names`. */
export function mapTopLevel(ctx: MapContext, project: ComposeProject, names: StackNames): MappedObject[] {
  const out: MappedObject[] = [];
  fileObjects(ctx, 'Secret', project.secrets, names.secrets, out);
  fileObjects(ctx, 'Config', project.configs, names.configs, out);
  volumeObjects(ctx, project, names.volumes, out);
  networkWarnings(ctx, project);
  for (const field of Object.keys(project)) {
    if (field === 'include' || field === 'models') ctx.warn([field], 'not supported: left out');
  }
  return out;
}
