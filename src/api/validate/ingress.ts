/**
 * The Ingress spec: HTTP(S) routes from outside the cluster to services, served by the proxy in
 * every agent (src/agent/ingress/). Rules match a host (exact, or `*.example.com`; omitted: any
 * host), then the longest path prefix; several entries with the same host and path split the
 * traffic by `weight` (canary, blue-green). TLS names the Secret that holds `tls.crt`/`tls.key`.
 */
import { z } from 'zod';
import { dnsLabel, int, port } from './common.js';

const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HOST_RULE = 'a host name like shop.example.com or *.example.com (lowercase, no port)';
const PATH_RULE = 'a path prefix starting with "/"';

const host = (): z.ZodString => z.string().max(253, { message: HOST_RULE }).regex(HOST_RE, { message: HOST_RULE });

const backend = z.object({
  service: dnsLabel(),
  /** The service's port (its number, or its name). */
  port: z.union([port(), dnsLabel()], { errorMap: () => ({ message: 'a service port: its number (1-65535) or its name' }) }),
}).strict();

const ingressPath = z.object({
  path: z.string().startsWith('/', { message: PATH_RULE }).default('/'),
  backend,
  /** Share of the traffic among entries with the same host and path; 0 takes none. */
  weight: int(0, 1000).default(100),
}).strict();

const rule = z.object({
  host: host().optional(),
  paths: z.array(ingressPath).min(1, { message: 'at least one path' }),
}).strict();

const tls = z.object({
  hosts: z.array(host()).min(1, { message: 'at least one host' }),
  /** A Secret in the Ingress's namespace with `tls.crt` and `tls.key` (PEM, base64 in data). */
  secret: dnsLabel(),
}).strict();

/** The Ingress spec schema (input as users write it, output with defaults). */
export const ingressSpecSchema = z.object({
  rules: z.array(rule).default([]),
  tls: z.array(tls).default([]),
}).strict();

/** The Ingress spec with defaults applied. */
export type IngressSpec = z.output<typeof ingressSpecSchema>;
/** One backend of an Ingress path. */
export type IngressBackend = IngressSpec['rules'][number]['paths'][number]['backend'];
