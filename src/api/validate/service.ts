/**
 * The Service spec: the schema users write most, with Compose/Swarm-like defaults
 * (see src/api/README.md for the defaults table). Output conforms to ServiceSpec in kinds.ts.
 */
import { z } from 'zod';
import { DEFAULT_TMPFS_SIZE, type ServiceSpec } from '../kinds.js';
import { parseConstraint } from '../constraint.js';
import { compareQuantities, parseBytes } from '../quantity.js';
import { DNS_LABEL_RULE, dnsLabel, int, isDnsLabel, nonEmpty, port, quantity, stringList, stringMap } from './common.js';

// [host[:port]/]path[:tag][@sha256:hex], as the distribution reference grammar has it.
// Separators are non-empty so the pattern cannot backtrack exponentially.
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_RE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
const IMAGE_RULE = 'an image reference like busybox:1, 127.0.0.1:5000/demo/web:1 or repo@sha256:<64 hex> ([host[:port]/]path[:tag][@sha256:digest], path in lowercase)';

/** True for image references of the shape `[host[:port]/]path[:tag][@sha256:hex]`. */
export function isImageReference(s: string): boolean {
  return s.length > 0 && s.length <= 512 && IMAGE_RE.test(s);
}

const resourceList = z.object({
  cpu: quantity().optional(),
  memory: quantity().optional(),
  pids: int(1).optional(),
}).strict();

const resources = z.object({
  requests: resourceList.default({}),
  limits: resourceList.default({}),
}).strict().superRefine((r, ctx) => {
  for (const res of ['cpu', 'memory'] as const) {
    const req = r.requests[res];
    const lim = r.limits[res];
    if (req !== undefined && lim !== undefined && compareQuantities(lim, req) < 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['limits', res], message: `a limit >= its request (requests.${res} is ${req})` });
    }
  }
  const rp = r.requests.pids;
  const lp = r.limits.pids;
  if (rp !== undefined && lp !== undefined && lp < rp) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['limits', 'pids'], message: `a limit >= its request (requests.pids is ${rp})` });
  }
});

const servicePort = z.object({
  name: dnsLabel().optional(),
  port: port(),
  targetPort: port().optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  publish: port().optional(),
}).strict().transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));

const constraintText = z.string().superRefine((s, ctx) => {
  try {
    parseConstraint(s);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/ \(expected .*\)$/, '') : String(e);
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a constraint like "node.labels.ssd == true", "node.role != manager" or "node.name in (n1, n2)"; ${why}` });
  }
});

const SPREAD_RE = /^node\.labels\.[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/;

const toleration = z.object({
  key: z.string(),
  operator: z.enum(['Equal', 'Exists']).default('Equal'),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'NoExecute', 'PreferNoSchedule']).optional(),
}).strict().superRefine((t, ctx) => {
  if (t.operator === 'Exists' && t.value !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['value'], message: 'no value with operator Exists' });
  if (t.operator === 'Equal' && t.key === '') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['key'], message: 'a taint key (an empty key needs operator Exists)' });
});

const placement = z.object({
  constraints: z.array(constraintText).default([]),
  spread: z.array(z.string().regex(SPREAD_RE, { message: 'a label path like node.labels.datacenter' })).default([]),
  tolerations: z.array(toleration).default([]),
  strategy: z.enum(['spread', 'binpack']).optional(),
}).strict();

const probeTiming = {
  initialDelaySeconds: int(0).default(0),
  periodSeconds: int(1).default(10),
  timeoutSeconds: int(1).default(1),
  failureThreshold: int(1).default(3),
  successThreshold: int(1).default(1),
};

const httpProbe = z.object({
  path: z.string().startsWith('/', { message: 'an absolute URL path starting with /' }).default('/'),
  port: port(),
  scheme: z.enum(['http', 'https']).default('http'),
  headers: stringMap(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'an HTTP header name' })).default({}),
}).strict();

const probe = z.object({
  http: httpProbe.optional(),
  tcp: z.object({ port: port() }).strict().optional(),
  exec: z.object({ command: z.array(z.string()).min(1, { message: 'a non-empty command list' }) }).strict().optional(),
  ...probeTiming,
}).strict().superRefine((p, ctx) => {
  const kinds = (['http', 'tcp', 'exec'] as const).filter((k) => p[k] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `exactly one of http, tcp or exec${kinds.length > 1 ? ` (not ${kinds.join(' and ')})` : ''}` });
  }
});

const probes = z.object({ readiness: probe.optional(), liveness: probe.optional(), startup: probe.optional() }).strict().superRefine((ps, ctx) => {
  for (const k of ['liveness', 'startup'] as const) {
    const p = ps[k];
    if (p !== undefined && p.successThreshold !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k, 'successThreshold'], message: `1 (a ${k} probe passes on one success)` });
  }
});

const canaryStep = z.union([
  z.object({ weight: int(1, 100) }).strict(),
  z.object({ pause: z.object({ seconds: int(0).optional() }).strict() }).strict(),
], { errorMap: () => ({ message: 'a step {weight: 1..100} or {pause: {}} / {pause: {seconds: N}}' }) });

const update = z.object({
  strategy: z.enum(['rolling', 'blue-green', 'canary']).default('rolling'),
  parallelism: int(0).default(1),
  delaySeconds: int(0).default(0),
  failureAction: z.enum(['pause', 'continue', 'rollback']).default('pause'),
  order: z.enum(['stop-first', 'start-first']).default('stop-first'),
  monitorSeconds: int(0).default(5),
  maxFailureRatio: z.number({ message: 'a number from 0 to 1' }).min(0, { message: 'a number from 0 to 1' }).max(1, { message: 'a number from 0 to 1' }).default(0),
  progressDeadlineSeconds: int(1).default(300),
  scaleDownDelaySeconds: int(0).default(30),
  steps: z.array(canaryStep).optional(),
}).strict().superRefine((u, ctx) => {
  if (u.steps === undefined) return;
  if (u.strategy !== 'canary' && u.steps.length > 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['steps'], message: `no steps with strategy ${u.strategy} (steps are for strategy: canary)` });
    return;
  }
  let last = 0;
  u.steps.forEach((s, i) => {
    if (!('weight' in s)) return;
    if (s.weight <= last) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['steps', i, 'weight'], message: `a weight above the previous step's ${last} (weights must rise)` });
    last = Math.max(last, s.weight);
  });
}).transform((u) => ({ ...u, steps: u.steps ?? [] }));

const restart = z.object({
  condition: z.enum(['any', 'on-failure', 'none']).default('any'),
  delaySeconds: int(0).default(1),
  maxDelaySeconds: int(0).default(60),
}).strict().superRefine((r, ctx) => {
  if (r.maxDelaySeconds < r.delaySeconds) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['maxDelaySeconds'], message: `an integer >= delaySeconds (${r.delaySeconds})` });
});

const absolute = (): z.ZodString => z.string().startsWith('/', { message: 'an absolute path inside the container (starting with /)' });
const fileMode = (dflt: number): z.ZodDefault<z.ZodNumber> => int(0, 0o777).default(dflt);

const secretRef = z.preprocess((v) => (typeof v === 'string' ? { source: v } : v), z.object({
  source: dnsLabel(),
  target: absolute().optional(),
  mode: fileMode(0o400),
  uid: int(0).default(0),
  gid: int(0).default(0),
}).strict()).transform((r) => ({ ...r, target: r.target ?? `/run/secrets/${r.source}` }));

const configRef = z.preprocess((v) => (typeof v === 'string' ? { source: v } : v), z.object({
  source: dnsLabel(),
  target: absolute().optional(),
  mode: fileMode(0o444),
}).strict()).transform((r) => ({ ...r, target: r.target ?? `/${r.source}` }));

/** True for a byte quantity above 0; an unparseable one is left to quantity()'s own message. */
function positiveBytes(q: string): boolean {
  try {
    return parseBytes(q) > 0;
  } catch {
    return true;
  }
}

const volumeRef = z.object({
  type: z.enum(['volume', 'tmpfs', 'bind']).default('volume'),
  source: z.string().default(''),
  target: absolute().refine((t) => t !== '/', { message: 'a path inside the container other than /' }),
  readOnly: z.boolean().default(false),
  size: quantity().refine(positiveBytes, { message: 'a size above 0, like 64Mi' }).optional(),
}).strict().superRefine((m, ctx) => {
  if (m.type === 'volume' && !isDnsLabel(m.source)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['source'], message: `the name of a Volume: ${DNS_LABEL_RULE}` });
  if (m.type === 'bind' && !m.source.startsWith('/')) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['source'], message: 'an absolute host path' });
  if (m.type === 'tmpfs' && m.source !== '') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['source'], message: 'no source (a tmpfs has none)' });
  if (m.type !== 'tmpfs' && m.size !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['size'], message: 'no size (size is for type: tmpfs)' });
}).transform((m) => (m.type === 'tmpfs' ? { ...m, size: m.size ?? DEFAULT_TMPFS_SIZE } : m));

const utilization = z.object({ targetUtilization: int(1, 1000) }).strict();

const autoscaleMetric = z.object({
  cpu: utilization.optional(),
  memory: utilization.optional(),
  custom: z.object({
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,62}$/, { message: 'a metric name (letters, digits, _ . -; starting with a letter or _)' }),
    target: z.number().positive({ message: 'a number above 0 (the value per task)' }).finite(),
    prometheus: z.object({
      url: z.string().regex(/^https?:\/\/\S+$/, { message: 'the base URL of a Prometheus server (http:// or https://)' }),
      query: nonEmpty('a PromQL query returning one number'),
    }).strict().optional(),
  }).strict().optional(),
}).strict().superRefine((m, ctx) => {
  const set = (['cpu', 'memory', 'custom'] as const).filter((k) => m[k] !== undefined);
  if (set.length !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `exactly one of cpu, memory or custom${set.length > 1 ? ` (found ${set.join(' and ')})` : ''}` });
});

const autoscale = z.object({
  min: int(1).default(1),
  max: int(1),
  metrics: z.array(autoscaleMetric).min(1, { message: 'at least one metric (cpu, memory or custom)' }),
  scaleUpStabilizationSeconds: int(0, 3600).default(0),
  scaleDownStabilizationSeconds: int(0, 3600).default(300),
}).strict().superRefine((a, ctx) => {
  if (a.max < a.min) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['max'], message: `an integer >= min (${a.min})` });
});

/**
 * Fields whose work is not written yet: refused with "not supported yet" (CONTRACT.md: a field
 * the API accepts does what it says). Each line goes when its feature works end to end.
 */
const NOT_SUPPORTED_YET: ReadonlyArray<'secrets' | 'configs' | 'volumes'> = [];

/** The Service spec schema: input as users write it, output a complete ServiceSpec. */
export const serviceSpecSchema = z.object({
  mode: z.enum(['replicated', 'global']).default('replicated'),
  replicas: int(0).default(1),
  image: nonEmpty(IMAGE_RULE).refine(isImageReference, { message: IMAGE_RULE }),
  command: stringList().optional(),
  args: stringList().optional(),
  env: stringMap(z.string().regex(/^[^=\0]+$/, { message: 'an environment variable name (no "=")' })).default({}),
  workingDir: z.string().startsWith('/', { message: 'an absolute path (starting with /)' }).optional(),
  user: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string()).optional(),
  ports: z.array(servicePort).default([]),
  resources: resources.default({}),
  placement: placement.default({}),
  probes: probes.default({}),
  update: update.default({}),
  restart: restart.default({}),
  secrets: z.array(secretRef).default([]),
  configs: z.array(configRef).default([]),
  volumes: z.array(volumeRef).default([]),
  imagePullSecret: dnsLabel().optional(),
  stopGracePeriodSeconds: int(0).default(10),
  restartedAt: z.string().datetime({ message: 'an RFC 3339 time (set by flotilla rollout restart)' }).optional(),
  autoscale: autoscale.optional(),
}).strict().superRefine((s, ctx) => {
  if (s.autoscale !== undefined) checkAutoscale(s, ctx);
  for (const field of NOT_SUPPORTED_YET) {
    s[field].forEach((_m, i) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field, i], message: `no ${field}: ${field} are not supported yet` }));
  }
  if (s.mode === 'global' && s.update.strategy !== 'rolling') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['update', 'strategy'], message: `rolling (strategy ${s.update.strategy} is not supported yet for mode: global)` });
  }
  const seen = new Map<string, number>();
  s.ports.forEach((p, i) => {
    const key = `${p.port}/${p.protocol}`;
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ports', i, 'port'], message: `a port not already used by ports[${first}] (${key})` });
    else seen.set(key, i);
  });
  const targets = new Map<string, string>();
  for (const field of ['secrets', 'configs', 'volumes'] as const) {
    s[field].forEach((m, i) => {
      const first = targets.get(m.target);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field, i, 'target'], message: `a target not already used by ${first}` });
      else targets.set(m.target, `${field}[${i}]`);
    });
  }
});

/** Autoscaling needs a replicated service and, for utilization targets, a request (or limit) to measure against. */
function checkAutoscale(s: Pick<ServiceSpec, 'mode' | 'resources' | 'autoscale'>, ctx: z.RefinementCtx): void {
  if (s.mode === 'global') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['autoscale'], message: 'no autoscale (a global service runs one task per node)' });
  (s.autoscale?.metrics ?? []).forEach((m, i) => {
    for (const r of ['cpu', 'memory'] as const) {
      if (m[r] !== undefined && s.resources.requests[r] === undefined && s.resources.limits[r] === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['autoscale', 'metrics', i, r], message: `resources.requests.${r} (or limits.${r}) to measure the utilization against` });
      }
    }
  });
}

// Compile-time check: what the schema produces is exactly a ServiceSpec.
type Out = z.output<typeof serviceSpecSchema>;
const conforms: (o: Out) => ServiceSpec = (o) => o;
void conforms;
