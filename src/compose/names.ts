/**
 * Object names for the stack. A stack is one namespace named after it, so compose services
 * keep their own names and reach each other by them (`db` resolves from `api` through the
 * agent's DNS, which looks bare names up in the asking task's namespace). Secrets, configs and
 * volumes often use `_` (`db_password`), which a DNS label cannot hold: `_` becomes `-`.
 */
import { DNS_LABEL_RULE, isDnsLabel } from '../api/validate/common.js';
import type { MapContext, Path } from './context.js';

/** The label every object of a stack carries (`stack rm` deletes exactly these). */
export const STACK_LABEL = 'flotilla.dev/stack';

/** The compose name of an object as a Flotilla name (lowercase, `_` and `.` as `-`). */
export function objectName(composeName: string): string {
  return composeName.toLowerCase().replace(/[_.]/g, '-');
}

/** A service's name: kept as written (DNS names must match what other services call it), or an issue. */
export function serviceName(ctx: MapContext, path: Path, name: string): string | undefined {
  if (isDnsLabel(name)) return name;
  ctx.issue(path, `a service name that is ${DNS_LABEL_RULE}, since other services reach it by this name`, name);
  return undefined;
}

/** The stack name is the namespace: it must be a DNS label. */
export function isStackName(name: string): boolean {
  return isDnsLabel(name);
}
