/**
 * One compose service into one Flotilla Service in the stack's namespace, labelled with the
 * stack: image, entrypoint/command (Docker's ENTRYPOINT/CMD are Flotilla's command/args),
 * environment, ports, deploy, healthcheck, mounts. Returns the object as the API takes it, and
 * where each spec field came from, so that the API's validation issues name the compose field.
 */
import { rawFound, type MapContext, type Path } from './context.js';
import { labelMap, mapEnvironment } from './map-env.js';
import { mapDeploy } from './map-deploy.js';
import { mapHealthcheck } from './map-health.js';
import { mapMounts, type StackNames } from './map-mounts.js';
import { mapPorts, type PortOut } from './map-ports.js';
import type { ComposeService } from './model.js';
import { STACK_LABEL } from './names.js';
import { shellWords } from './shell-words.js';
import { MAPPED_SERVICE_FIELDS, unsupportedReason } from './unsupported.js';

/** A Flotilla object (as sent to the API) and the compose path of each spec field. */
export interface MappedObject {
  object: { kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };
  /** Flotilla field path prefix (`spec.ports`) -> compose path; `keepSuffix` when the shapes line up below it. */
  origins: Array<{ field: string; compose: Path; keepSuffix?: boolean }>;
  /** Compose path of the object itself. */
  compose: Path;
}

function words(ctx: MapContext, path: Path, v: string | string[] | null | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v;
  try {
    return shellWords(v);
  } catch (err) {
    ctx.issue(path, (err as Error).message, v);
    return undefined;
  }
}

/** Maps `services.NAME`. */
export function mapService(ctx: MapContext, name: string, svc: ComposeService, names: StackNames): MappedObject {
  const base: Path = ['services', name];
  const spec: Record<string, unknown> = {};
  if (svc.image === undefined) ctx.issue([...base, 'image'], svc.build !== undefined ? 'an image (build is not supported: build and push the image, then name it here)' : 'an image', rawFound('nothing'));
  else spec.image = svc.image;
  if (svc.build !== undefined && svc.image !== undefined) ctx.warn([...base, 'build'], `not supported: the image ${svc.image} must be built and pushed to a registry first`);
  const entrypoint = words(ctx, [...base, 'entrypoint'], svc.entrypoint);
  const command = words(ctx, [...base, 'command'], svc.command);
  if (entrypoint !== undefined) spec.command = entrypoint;
  if (command !== undefined) spec.args = command;
  spec.env = mapEnvironment(ctx, base, svc);
  if (svc.working_dir !== undefined) spec.workingDir = svc.working_dir;
  if (svc.user !== undefined) spec.user = svc.user;
  spec.ports = mapPorts(ctx, base, svc);
  mapDeploy(ctx, base, svc, spec);
  const published = (spec.ports as PortOut[]).filter((p) => p.publish !== undefined).map((p) => p.publish);
  if (published.length > 0 && typeof spec.replicas === 'number' && spec.replicas > 1) {
    ctx.warn([...base, 'ports'], `the scheduler reserves published port${published.length > 1 ? 's' : ''} ${published.join(', ')} on each node running a task: at most one of the ${spec.replicas} replicas per node`);
  }
  spec.probes = mapHealthcheck(ctx, base, svc.healthcheck);
  mapMounts(ctx, base, svc, names, spec);
  if (svc.labels !== undefined) ctx.warn([...base, 'labels'], 'container labels are not supported (deploy.labels become the service\'s annotations): left out');
  for (const field of Object.keys(svc)) {
    if (!MAPPED_SERVICE_FIELDS.has(field) && !field.startsWith('x-')) ctx.warn([...base, field], unsupportedReason(field));
  }
  const metadata: Record<string, unknown> = { name, namespace: ctx.stack, labels: { [STACK_LABEL]: ctx.stack } };
  const annotations = labelMap(svc.deploy?.labels);
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const d = [...base, 'deploy'];
  return {
    object: { kind: 'Service', metadata, spec },
    compose: base,
    origins: [
      { field: 'metadata.name', compose: base },
      { field: 'metadata.annotations', compose: [...d, 'labels'], keepSuffix: true },
      { field: 'spec.image', compose: [...base, 'image'] },
      { field: 'spec.command', compose: [...base, 'entrypoint'], keepSuffix: true },
      { field: 'spec.args', compose: [...base, 'command'], keepSuffix: true },
      { field: 'spec.env', compose: [...base, 'environment'], keepSuffix: true },
      { field: 'spec.workingDir', compose: [...base, 'working_dir'] },
      { field: 'spec.user', compose: [...base, 'user'] },
      { field: 'spec.ports', compose: [...base, 'ports'] },
      { field: 'spec.mode', compose: [...d, 'mode'] },
      { field: 'spec.replicas', compose: [...d, 'replicas'] },
      { field: 'spec.resources.limits', compose: [...d, 'resources', 'limits'] },
      { field: 'spec.resources.requests', compose: [...d, 'resources', 'reservations'] },
      { field: 'spec.placement.constraints', compose: [...d, 'placement', 'constraints'], keepSuffix: true },
      { field: 'spec.placement.spread', compose: [...d, 'placement', 'preferences'] },
      { field: 'spec.update', compose: [...d, 'update_config'] },
      { field: 'spec.restart', compose: svc.deploy?.restart_policy !== undefined ? [...d, 'restart_policy'] : [...base, 'restart'] },
      { field: 'spec.probes', compose: [...base, 'healthcheck'] },
      { field: 'spec.secrets', compose: [...base, 'secrets'], keepSuffix: true },
      { field: 'spec.configs', compose: [...base, 'configs'], keepSuffix: true },
      { field: 'spec.volumes', compose: [...base, 'volumes'] },
      { field: 'spec.stopGracePeriodSeconds', compose: [...base, 'stop_grace_period'] },
      { field: 'spec', compose: base },
    ],
  };
}
