/**
 * `ports` and `expose` into service ports. A published port (`"8080:80"`) is published on every
 * node through the routing mesh (`publish: 8080`) and is also the service's port 80 on its
 * virtual IP; `expose` and unpublished ports are VIP ports only. Flotilla's VIP forwards the
 * declared ports only (Swarm's forwards all): a service other services call needs its port in
 * `ports` or `expose`, which the mapping warns about when a stack service has neither.
 */
import type { MapContext, Path } from './context.js';
import type { ComposePortLong, ComposeService } from './model.js';
import { integer } from './units.js';

/** A Flotilla service port as the API takes it. */
export interface PortOut {
  port: number;
  targetPort: number;
  protocol: 'tcp' | 'udp';
  publish?: number;
  name?: string;
}

const SHORT_RE = /^(?:(?:(\[[^\]]+\]|[^:[\]]+):)?(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:\/(tcp|udp|sctp))?$/;

function range(text: string): [number, number] {
  const [a, b] = text.split('-').map(Number) as [number, number | undefined];
  return [a, b ?? a];
}

/** The long form of each entry (a short one may stand for a range of several). */
function longForms(ctx: MapContext, path: Path, entry: number | string | ComposePortLong): ComposePortLong[] | undefined {
  if (typeof entry === 'object') return [entry];
  const m = SHORT_RE.exec(String(entry).trim());
  if (m === null) {
    ctx.issue(path, 'a port like "8080:80", "80", "127.0.0.1:8080:80" or "53:53/udp"', entry);
    return undefined;
  }
  const [, hostIp, published, target, protocol] = m;
  const [t0, t1] = range(target as string);
  const p = published !== undefined ? range(published) : undefined;
  if (p !== undefined && p[1] - p[0] !== t1 - t0) {
    ctx.issue(path, 'a published range as long as the container range', entry);
    return undefined;
  }
  const out: ComposePortLong[] = [];
  for (let i = 0; i <= t1 - t0; i++) {
    const one: ComposePortLong = { target: t0 + i, protocol: protocol ?? 'tcp' };
    if (p !== undefined) one.published = p[0] + i;
    if (hostIp !== undefined) one.host_ip = hostIp;
    out.push(one);
  }
  return out;
}

/** The service ports of one compose service, with warnings for what the routing mesh does differently. */
export function mapPorts(ctx: MapContext, base: Path, svc: ComposeService): PortOut[] {
  const out: PortOut[] = [];
  const used = new Set<string>();
  (svc.ports ?? []).forEach((entry, i) => {
    const path = [...base, 'ports', i];
    for (const p of longForms(ctx, path, entry) ?? []) {
      const target = integer(ctx, [...path, 'target'], p.target, 1);
      if (target === undefined) continue;
      const protocol = p.protocol ?? 'tcp';
      if (protocol !== 'tcp' && protocol !== 'udp') {
        ctx.warn(path, `protocol ${protocol} is not supported (tcp and udp are): port left out`);
        continue;
      }
      if (p.host_ip !== undefined && p.host_ip !== '0.0.0.0') ctx.warn([...path, 'host_ip'], `${p.host_ip} is not honoured: the routing mesh publishes on every address of every node`);
      if (p.mode === 'host') ctx.warn([...path, 'mode'], 'host mode is not supported: published through the routing mesh (ingress) instead');
      if (p.app_protocol !== undefined) ctx.warn([...path, 'app_protocol'], 'not used by Flotilla: left out');
      const published = p.published === undefined || p.published === '' ? undefined : integer(ctx, [...path, 'published'], p.published, 1);
      if (published === undefined && p.published === undefined) ctx.warn(path, `port ${target} is not published (Swarm would pick a node port): reachable inside the stack only`);
      // The VIP port is the container port, unless an earlier entry took it (two host ports to one container port).
      const vipPort = used.has(`${target}/${protocol}`) && published !== undefined ? published : target;
      used.add(`${vipPort}/${protocol}`);
      out.push({ port: vipPort, targetPort: target, protocol, ...(published !== undefined ? { publish: published } : {}), ...(p.name !== undefined ? { name: p.name } : {}) });
    }
  });
  (svc.expose ?? []).forEach((entry, i) => {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(String(entry));
    if (m === null) {
      ctx.issue([...base, 'expose', i], 'a port like "6379" or "53/udp"', entry);
      return;
    }
    const protocol = (m[3] ?? 'tcp') as 'tcp' | 'udp';
    for (let port = Number(m[1]); port <= Number(m[2] ?? m[1]); port++) {
      if (used.has(`${port}/${protocol}`)) continue;
      used.add(`${port}/${protocol}`);
      out.push({ port, targetPort: port, protocol });
    }
  });
  return out;
}
