/**
 * Ingress routing, pure (STYLE.md 5): Ingress objects in, a route table out; a request's host
 * and path in, the matching route out; a route's weighted backends picked by smooth weighted
 * round-robin (nginx's algorithm: exact shares, evenly interleaved, no randomness to test).
 *
 * A backend service in a canary has weighted groups of endpoints (one per revision): a
 * GroupPicker per route and service picks the group the same way, then the proxy takes the
 * next ready task of that group.
 *
 * Matching order: exact host, then wildcard host (`*.example.com` covers one more label), then
 * rules without a host; within a host, the longest path prefix that matches whole path
 * segments (`/api` matches `/api` and `/api/x`, not `/apix`). Same host + same path in several
 * entries or Ingresses = one route with several weighted backends.
 */
import type { IngressSpec } from '../../api/validate/ingress.js';
import { servingGroups, type Endpoint, type EndpointGroup, type ServiceEndpoints } from '../../controllers/endpoints/endpoints.js';

/** One backend of a route: a service port in a namespace, and its weight. */
export interface RouteBackend {
  namespace: string;
  service: string;
  /** Service port number or name. */
  port: number | string;
  weight: number;
}

/** Host + path prefix -> weighted backends. */
export interface Route {
  /** Undefined: any host. */
  host?: string;
  path: string;
  backends: RouteBackend[];
  /** `namespace/name` of the Ingresses that contributed. */
  ingresses: string[];
}

/** Routes grouped for lookup. */
export interface RouteTable {
  exact: Map<string, Route[]>;
  wildcard: Map<string, Route[]>;
  anyHost: Route[];
}

/** An Ingress as the router needs it. */
export interface IngressSource {
  namespace: string;
  name: string;
  spec: IngressSpec;
}

function byLongestPath(a: Route, b: Route): number {
  return b.path.length - a.path.length || a.path.localeCompare(b.path);
}

/** Builds the table; later Ingresses add backends to routes with the same host and path. */
export function buildRouteTable(ingresses: readonly IngressSource[]): RouteTable {
  const routes = new Map<string, Route>();
  const sorted = [...ingresses].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const ing of sorted) {
    for (const rule of ing.spec.rules) {
      for (const p of rule.paths) {
        const key = `${rule.host ?? ''} ${p.path}`;
        let r = routes.get(key);
        if (r === undefined) routes.set(key, (r = { ...(rule.host !== undefined ? { host: rule.host } : {}), path: p.path, backends: [], ingresses: [] }));
        r.backends.push({ namespace: ing.namespace, service: p.backend.service, port: p.backend.port, weight: p.weight });
        const id = `${ing.namespace}/${ing.name}`;
        if (!r.ingresses.includes(id)) r.ingresses.push(id);
      }
    }
  }
  const table: RouteTable = { exact: new Map(), wildcard: new Map(), anyHost: [] };
  for (const r of routes.values()) {
    if (r.host === undefined) table.anyHost.push(r);
    else {
      const wild = r.host.startsWith('*.');
      const m = wild ? table.wildcard : table.exact;
      const k = wild ? r.host.slice(2) : r.host;
      m.set(k, [...(m.get(k) ?? []), r]);
    }
  }
  for (const list of [...table.exact.values(), ...table.wildcard.values(), table.anyHost]) list.sort(byLongestPath);
  return table;
}

/** True when `prefix` matches `path` on whole segments. */
export function pathMatches(prefix: string, path: string): boolean {
  if (prefix === '/' || prefix === path) return true;
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(p);
}

/** The host of a Host header: lowercase, without port or trailing dot. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  const h = hostHeader.trim().toLowerCase();
  const noPort = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d+$/, '');
  return noPort.replace(/\.$/, '');
}

/** The route for a request, or undefined (404). `path` is the URL path without the query. */
export function matchRoute(table: RouteTable, hostHeader: string | undefined, path: string): Route | undefined {
  const host = normalizeHost(hostHeader);
  const dot = host.indexOf('.');
  const candidates = [table.exact.get(host), dot > 0 ? table.wildcard.get(host.slice(dot + 1)) : undefined, table.anyHost];
  for (const list of candidates) {
    const hit = list?.find((r) => pathMatches(r.path, path));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/**
 * Smooth weighted round-robin over the items `eligible` allows (a backend without ready tasks
 * is skipped, and the others share its traffic). State lives per picker (one per route).
 */
export class WeightedPicker<T extends { weight: number }> {
  private readonly current: number[];

  constructor(private readonly items: readonly T[]) {
    this.current = items.map(() => 0);
  }

  pick(eligible: (item: T) => boolean = () => true): T | undefined {
    let total = 0;
    let best = -1;
    this.items.forEach((it, i) => {
      if (it.weight <= 0 || !eligible(it)) return;
      this.current[i] = (this.current[i] as number) + it.weight;
      total += it.weight;
      if (best < 0 || (this.current[i] as number) > (this.current[best] as number)) best = i;
    });
    if (best < 0) return undefined;
    this.current[best] = (this.current[best] as number) - total;
    return this.items[best];
  }
}

/**
 * Picks the group of a backend service's endpoints for one request (route + service): smooth
 * weighted round-robin over the groups with ready tasks (servingGroups: an empty group gives its
 * share to the others). The picker's state starts over when the groups or weights change.
 */
export class GroupPicker {
  private signature = '';
  private picker: WeightedPicker<Pick<EndpointGroup, 'revision' | 'weight'>> | undefined;

  /** The endpoints to use (the picked group's, or all of the service's when it is not split) and the group's revision. */
  pick(e: Pick<ServiceEndpoints, 'endpoints' | 'groups'>): { revision?: number; endpoints: Endpoint[] } {
    const groups = servingGroups(e);
    if (e.groups === undefined) return { endpoints: e.endpoints };
    if (groups.length <= 1) return groups[0] ?? { endpoints: e.endpoints };
    const signature = groups.map((g) => `${g.revision}:${g.weight}`).join(',');
    if (signature !== this.signature || this.picker === undefined) {
      this.signature = signature;
      this.picker = new WeightedPicker(groups.map((g) => ({ revision: g.revision, weight: g.weight })));
    }
    // The picker holds revisions and weights only: the endpoints are today's.
    const picked = this.picker.pick();
    return groups.find((g) => g.revision === picked?.revision) ?? { endpoints: e.endpoints };
  }
}
