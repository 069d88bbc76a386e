/**
 * Service fields of the Compose specification that Flotilla has no counterpart for, each with
 * the reason `stack deploy` prints (one warning line per field used). Fields the mapping reads
 * are listed in MAPPED; `x-` extensions are the file author's own and never warned about.
 */

/** Fields map-service.ts and its helpers read. */
export const MAPPED_SERVICE_FIELDS: ReadonlySet<string> = new Set([
  'image', 'command', 'entrypoint', 'environment', 'env_file', 'working_dir', 'user', 'ports', 'expose', 'deploy',
  'healthcheck', 'secrets', 'configs', 'volumes', 'tmpfs', 'networks', 'labels', 'depends_on', 'restart', 'stop_grace_period', 'build',
]);

/** Why a field is left out, where a general "not supported" would not help. */
const REASONS: Record<string, string> = {
  container_name: 'task names are chosen by Flotilla (a service runs several tasks): left out',
  hostname: 'each task is named by Flotilla: left out',
  links: 'services reach each other by service name already (one namespace per stack): left out',
  network_mode: 'every task has its own network namespace on the cluster network: left out',
  privileged: 'privileged containers are not supported: left out',
  cap_add: 'capabilities are Flotilla\'s default set: left out',
  cap_drop: 'capabilities are Flotilla\'s default set: left out',
  devices: 'devices are not supported: left out',
  logging: 'logs are kept by the agent (flotilla logs): left out',
  extra_hosts: '/etc/hosts entries are not supported: left out',
  dns: 'tasks use the agent\'s DNS server: left out',
  dns_search: 'tasks use the agent\'s DNS search path (the stack\'s namespace): left out',
  sysctls: 'sysctls are not supported: left out',
  ulimits: 'ulimits are not supported (deploy.resources.limits.pids limits processes): left out',
  mem_limit: 'use deploy.resources.limits.memory: left out',
  cpus: 'use deploy.resources.limits.cpus: left out',
  scale: 'use deploy.replicas: left out',
  profiles: 'profiles are not supported: the service is deployed whatever the profile',
  stop_signal: 'tasks are stopped with SIGTERM, then SIGKILL after stop_grace_period: left out',
  init: 'no init process is injected: left out',
  read_only: 'a read-only root filesystem is not supported yet: left out',
  shm_size: 'the /dev/shm size is not configurable: left out',
  pull_policy: 'the agent pulls an image when its node does not have it: left out',
  platform: 'the agent pulls the image for its own platform: left out',
  tty: 'tasks have no terminal: left out',
  stdin_open: 'tasks have no standard input: left out',
};

/** The reason to print for an unmapped service field. */
export function unsupportedReason(field: string): string {
  return REASONS[field] ?? 'not supported by Flotilla: left out';
}
