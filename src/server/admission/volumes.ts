/**
 * Admission of volumes:
 *
 *   DELETE Volume ──> Tasks of its namespace desired running that mount it? ──yes──> 409 naming them
 *   create/update Service with a `type: bind` volume ──> cluster allows host binds? ──no──> 422
 *     "bind mounts of host paths are off in this cluster (flotilla server --allow-host-binds)"
 *
 * A Volume's data lives on one node and is never removed by the agent, so deleting a Volume
 * only forgets it in the API; refusing it while tasks use it keeps their pinning meaningful.
 * The check reads the store at admission time (a task created in the same instant can slip by).
 */
import { ConflictError, ValidationError, type ValidationIssue } from '../../api/errors.js';
import type { Service, Task } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import { volumeKeysOf } from '../../scheduler/index.js';
import type { AdmissionHook, AdmissionRequest } from '../hooks.js';

/** The message a service with a host bind gets when the cluster does not allow them. */
export const HOST_BINDS_OFF = 'bind mounts of host paths are off in this cluster (flotilla server --allow-host-binds)';

/** How many task names a refusal lists before "and N more". */
const NAMES_SHOWN = 5;

/** The tasks (desired running) among `tasks` that mount Volume `namespace/name` (pure, for tests). */
export function tasksUsingVolume(tasks: readonly Task[], namespace: string, name: string): Task[] {
  const key = `${namespace}/${name}`;
  return tasks.filter((t) => t.metadata.namespace === namespace && t.spec.desiredState === 'running' && volumeKeysOf(namespace, t.spec.template).includes(key));
}

/** "volume data is in use by task(s) db-1-abc, db-2-def: ..." */
export function inUseMessage(namespace: string, name: string, users: readonly Task[]): string {
  const names = users.map((t) => t.metadata.name).sort();
  const shown = names.slice(0, NAMES_SHOWN).join(', ') + (names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : '');
  return `volume ${namespace}/${name} is in use by task${names.length > 1 ? 's' : ''} ${shown}: delete or scale down the services using it first`;
}

/** Refuses deleting a Volume that a task desired running mounts; see the file comment. */
export class VolumeInUseAdmission implements AdmissionHook {
  readonly name = 'volume-in-use';

  constructor(private readonly store: Pick<Store, 'list'>) {}

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'delete' || req.object.kind !== 'Volume') return;
    const { namespace, name } = req.object.metadata;
    const { items } = await this.store.list('Task', { namespace });
    const users = tasksUsingVolume(items as Task[], namespace, name);
    if (users.length > 0) throw new ConflictError(inUseMessage(namespace, name, users));
  }
}

/** The issues of a service's host binds when they are off (pure, for tests). */
export function hostBindIssues(svc: Service): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  (svc.spec.volumes ?? []).forEach((v, i) => {
    if (v.type === 'bind') issues.push({ path: `spec.volumes[${i}].type`, expected: `volume or tmpfs: ${HOST_BINDS_OFF}`, found: `bind (source ${v.source})` });
  });
  return issues;
}

/** Refuses services with `type: bind` volumes unless the server runs with --allow-host-binds. */
export class HostBindAdmission implements AdmissionHook {
  readonly name = 'host-binds';

  constructor(private readonly allowed: boolean) {}

  admit(req: AdmissionRequest): void {
    if (this.allowed || req.object.kind !== 'Service' || (req.operation !== 'create' && req.operation !== 'update')) return;
    const issues = hostBindIssues(req.object as Service);
    if (issues.length > 0) throw new ValidationError(issues);
  }
}

/** The volume admission hooks of a server. */
export function volumeAdmission(store: Pick<Store, 'list'>, opts: { allowHostBinds: boolean }): AdmissionHook[] {
  return [new VolumeInUseAdmission(store), new HostBindAdmission(opts.allowHostBinds)];
}
