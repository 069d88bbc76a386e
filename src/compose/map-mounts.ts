/**
 * What a service mounts: `secrets` and `configs` (delivered on tmpfs by the agent), `volumes`
 * (named volumes, binds resolved against the compose file, tmpfs) and `tmpfs`. Sources are the
 * top-level names, resolved to the Flotilla objects the stack creates or refers to (`names`).
 * Default targets follow Docker: `/run/secrets/<name>` for a secret, `/<name>` for a config.
 */
import nodePath from 'node:path';
import type { MapContext, Path } from './context.js';
import type { ComposeFileRef, ComposeService, ComposeVolumeLong } from './model.js';
import { byteQuantity, boolean, integer } from './units.js';

/** Top-level compose name -> Flotilla object name, per kind. */
export interface StackNames {
  secrets: Map<string, string>;
  configs: Map<string, string>;
  volumes: Map<string, string>;
}

type Mount = Record<string, unknown>;

/** Sets secrets, configs and volumes on `spec`. */
export function mapMounts(ctx: MapContext, base: Path, svc: ComposeService, names: StackNames, spec: Record<string, unknown>): void {
  spec.secrets = fileRefs(ctx, [...base, 'secrets'], svc.secrets, names.secrets, 'secret', (n) => `/run/secrets/${n}`);
  spec.configs = fileRefs(ctx, [...base, 'configs'], svc.configs, names.configs, 'config', (n) => `/${n}`);
  const volumes: Mount[] = [];
  (svc.volumes ?? []).forEach((v, i) => {
    const m = volumeMount(ctx, [...base, 'volumes', i], typeof v === 'string' ? shortVolume(v) : v, names.volumes);
    if (m !== undefined) volumes.push(m);
  });
  const tmpfs = svc.tmpfs === undefined ? [] : Array.isArray(svc.tmpfs) ? svc.tmpfs : [svc.tmpfs];
  tmpfs.forEach((t, i) => {
    const [target, opts] = [t.split(':')[0] as string, t.split(':').slice(1).join(':')];
    const size = /(?:^|,)size=([^,]+)/.exec(opts)?.[1];
    const m: Mount = { type: 'tmpfs', target };
    if (size !== undefined) m.size = byteQuantity(ctx, [...base, 'tmpfs', i], size);
    if (opts.split(',').some((o) => o !== '' && !o.startsWith('size='))) ctx.warn([...base, 'tmpfs', i], 'only the size option is supported: the others are left out');
    volumes.push(m);
  });
  spec.volumes = volumes;
}

function fileRefs(ctx: MapContext, path: Path, refs: Array<string | ComposeFileRef> | undefined, names: Map<string, string>, what: string, defaultTarget: (name: string) => string): Mount[] {
  const out: Mount[] = [];
  (refs ?? []).forEach((r, i) => {
    const ref = typeof r === 'string' ? { source: r } : r;
    const p = typeof r === 'string' ? [...path, i] : [...path, i, 'source'];
    const source = names.get(ref.source);
    if (source === '') return; // the top-level entry is refused already
    if (source === undefined) {
      ctx.issue(p, `a ${what} declared under the top-level ${what}s`, ref.source);
      return;
    }
    const target = ref.target === undefined ? defaultTarget(ref.source) : ref.target.startsWith('/') ? ref.target : what === 'secret' ? `/run/secrets/${ref.target}` : `/${ref.target}`;
    const m: Mount = { source, target };
    if (ref.mode !== undefined) m.mode = integer(ctx, [...path, i, 'mode'], ref.mode);
    if (what === 'secret') {
      if (ref.uid !== undefined) m.uid = integer(ctx, [...path, i, 'uid'], ref.uid);
      if (ref.gid !== undefined) m.gid = integer(ctx, [...path, i, 'gid'], ref.gid);
    } else if (ref.uid !== undefined || ref.gid !== undefined) {
      ctx.warn([...path, i], 'uid and gid of a config are not supported: its file belongs to root');
    }
    out.push(m);
  });
  return out;
}

/** `SOURCE:TARGET[:MODE]` or `TARGET` as the long form. */
function shortVolume(text: string): ComposeVolumeLong & { options?: string[] } {
  const parts = text.split(':');
  if (parts.length === 1) return { type: 'volume', target: text };
  const [source, target, mode] = parts as [string, string, string | undefined];
  const isPath = source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
  const options = mode === undefined ? [] : mode.split(',');
  return { type: isPath ? 'bind' : 'volume', source, target, read_only: options.includes('ro'), options: options.filter((o) => o !== 'ro' && o !== 'rw') };
}

function volumeMount(ctx: MapContext, path: Path, v: ComposeVolumeLong & { options?: string[] }, names: Map<string, string>): Mount | undefined {
  for (const o of v.options ?? []) ctx.warn(path, `option ${o} is not supported: left out`);
  for (const field of ['bind', 'volume', 'image', 'consistency']) {
    if (v[field] !== undefined) ctx.warn([...path, field], 'not supported by Flotilla: left out');
  }
  const readOnly = v.read_only !== undefined && boolean(ctx, [...path, 'read_only'], v.read_only) === true;
  if (v.target === undefined) {
    ctx.issue([...path, 'target'], 'a target path inside the container');
    return undefined;
  }
  if (v.type === 'tmpfs') {
    const m: Mount = { type: 'tmpfs', target: v.target };
    if (v.tmpfs?.size !== undefined) m.size = byteQuantity(ctx, [...path, 'tmpfs', 'size'], v.tmpfs.size);
    if (v.tmpfs?.mode !== undefined) ctx.warn([...path, 'tmpfs', 'mode'], 'not supported: the tmpfs is 0755');
    return m;
  }
  if (v.type === 'bind') {
    const source = v.source ?? '';
    const abs = source.startsWith('~') ? nodePath.join(ctx.opts.env.HOME ?? '/root', source.slice(1)) : nodePath.resolve(ctx.opts.dir, source);
    return { type: 'bind', source: abs, target: v.target, readOnly };
  }
  if (v.type !== 'volume') {
    ctx.warn(path, `volumes of type ${v.type} are not supported: left out`);
    return undefined;
  }
  if (v.source === undefined || v.source === '') {
    ctx.warn(path, 'an anonymous volume is not supported (a Volume needs a name): left out; name it under the top-level volumes');
    return undefined;
  }
  const source = names.get(v.source);
  if (source === '') return undefined; // the top-level entry is refused already
  if (source === undefined) {
    ctx.issue(typeof v.source === 'string' ? path : [...path, 'source'], 'a volume declared under the top-level volumes', v.source);
    return undefined;
  }
  return { source, target: v.target, readOnly };
}
