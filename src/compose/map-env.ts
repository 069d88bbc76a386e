/**
 * `environment` and `env_file` into a service's `env`, as Compose merges them: the env files in
 * order, then `environment` on top. A variable listed without a value (`- DEBUG` or `DEBUG:`)
 * takes its value from the environment of `stack deploy`, and is left out when unset there.
 * Env files are read relative to the compose file, in the dotenv format compose-go reads.
 */
import path from 'node:path';
import type { MapContext, Path } from './context.js';
import type { ComposeService, Scalar } from './model.js';

/** KEY=VALUE lines: comments, `export `, single quotes literal, double quotes with \n escapes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*export\s+/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1);
    else if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"');
    else value = value.replace(/\s+#.*$/, '');
    out[key] = value;
  }
  return out;
}

function scalarText(v: Scalar): string {
  return typeof v === 'string' ? v : String(v);
}

/** The merged environment of one service. */
export function mapEnvironment(ctx: MapContext, base: Path, svc: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  const files = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  files.forEach((f, i) => {
    const file = typeof f === 'string' ? f : f.path;
    const required = typeof f === 'string' ? true : f.required !== false && f.required !== 'false';
    const full = path.resolve(ctx.opts.dir, file);
    let text: string;
    try {
      text = ctx.opts.readFile(full).toString('utf8');
    } catch {
      if (required) ctx.issue([...base, 'env_file', i], `an env file that exists (${full})`, file);
      return;
    }
    Object.assign(env, parseDotenv(text));
  });
  const fromHost = (name: string): void => {
    const v = ctx.opts.env[name];
    if (v !== undefined) env[name] = v;
    else delete env[name];
  };
  const e = svc.environment;
  if (Array.isArray(e)) {
    for (const item of e) {
      const eq = item.indexOf('=');
      if (eq < 0) fromHost(item);
      else env[item.slice(0, eq)] = item.slice(eq + 1);
    }
  } else if (e !== undefined) {
    for (const [k, v] of Object.entries(e)) {
      if (v === null) fromHost(k);
      else env[k] = scalarText(v);
    }
  }
  return env;
}

/** Labels written as a mapping or as `key=value` items. */
export function labelMap(labels: Record<string, Scalar> | string[] | undefined): Record<string, string> {
  if (labels === undefined) return {};
  if (Array.isArray(labels)) {
    return Object.fromEntries(labels.map((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? [l, ''] : [l.slice(0, eq), l.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v === null ? '' : scalarText(v)]));
}
