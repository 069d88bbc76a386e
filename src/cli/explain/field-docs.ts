/**
 * What each field means, for `flotilla explain`, keyed by path (`Service.spec.update.strategy`).
 * Kept here rather than as .describe() calls in the shared schema files. Repeated shapes share
 * one entry through docKey(): the three probes (PROBE), requests and limits (LIST), capacity and
 * allocatable (RESOURCES), a Task's template (the Service spec), every kind's metadata.
 * test/cli/explain.test.ts fails when a Service, Task or Node field has no entry.
 */

const PROBE = {
  '': 'A check the agent runs against each task: exactly one of http, tcp or exec.',
  http: 'Probe passes on an HTTP status 200-399 from GET path on port.',
  'http.path': 'URL path requested.',
  'http.port': 'Container port requested.',
  'http.scheme': 'http or https (certificates are not verified).',
  'http.headers': 'Extra request headers.',
  tcp: 'Probe passes when a TCP connection to port opens.',
  'tcp.port': 'Container port connected to.',
  exec: 'Probe passes when the command exits 0 inside the container.',
  'exec.command': 'Command and arguments, run without a shell.',
  initialDelaySeconds: 'Seconds after the start before the first probe.',
  periodSeconds: 'Seconds between probes.',
  timeoutSeconds: 'Seconds one probe may take before it counts as failed.',
  failureThreshold: 'Consecutive failures that make the probe fail.',
  successThreshold: 'Consecutive successes that make the probe pass (1 for liveness and startup).',
};

const RESOURCE_LIST = {
  cpu: 'CPU in cores: 250m, 0.5, 2.',
  memory: 'Memory in bytes: 64Mi, 1G.',
  pids: 'Number of processes.',
};

const TABLE: Record<string, string> = {
  apiVersion: 'API version of the object: flotilla/v1 (may be left out).',
  kind: 'Kind of the object (Service, Task, Node, ...).',
  metadata: 'Name, namespace and labels; the server fills uid, revision, generation and creationTimestamp.',
  'metadata.name': 'Name, unique per kind and namespace: a DNS label (nodes and events: a DNS name).',
  'metadata.namespace': 'Namespace of the object (default: default); empty for cluster-scoped kinds.',
  'metadata.labels': 'Key-value labels, matched by selectors (get -l, grants, placement).',
  'metadata.annotations': 'Free-form key-value notes; some are set by controllers.',
  'metadata.uid': 'Unique id set by the server on create.',
  'metadata.revision': 'Store revision of the last change; sent back as the expected revision on update.',
  'metadata.generation': 'Bumped by the server on every spec change.',
  'metadata.creationTimestamp': 'When the object was created (RFC 3339), set by the server.',
  Service: 'A set of identical tasks (containers) kept running on the cluster, reachable on one virtual IP.',
  'Service.spec': 'What the service runs and how it is placed, probed and updated.',
  'Service.spec.mode': 'replicated: spec.replicas tasks; global: one task on every eligible node.',
  'Service.spec.replicas': 'Number of tasks for mode replicated.',
  'Service.spec.image': 'Image reference from any OCI or Docker v2 registry: [host[:port]/]path[:tag][@sha256:digest].',
  'Service.spec.command': 'Replaces the image entrypoint.',
  'Service.spec.args': 'Replaces the image command (arguments to the entrypoint).',
  'Service.spec.env': 'Environment variables of the container.',
  'Service.spec.workingDir': 'Working directory inside the container (absolute).',
  'Service.spec.user': 'User (name or uid[:gid]) the container runs as.',
  'Service.spec.ports': 'Ports the service offers on its virtual IP.',
  'Service.spec.ports.name': 'Port name (a DNS label).',
  'Service.spec.ports.port': 'Port on the service virtual IP.',
  'Service.spec.ports.targetPort': 'Container port traffic goes to (default: port).',
  'Service.spec.ports.protocol': 'tcp or udp.',
  'Service.spec.ports.publish': 'Also publish the port on every node at this port.',
  'Service.spec.resources': 'CPU, memory and process requests (for placement) and limits (enforced).',
  'Service.spec.resources.LIST': 'Amounts per task.',
  'Service.spec.resources.requests': 'Reserved per task: the scheduler places a task only where these fit.',
  'Service.spec.resources.limits': 'Enforced per task by cgroups (memory over the limit: OOM kill).',
  'Service.spec.placement': 'Where tasks may run and how they are spread.',
  'Service.spec.placement.constraints': 'Node filters, all must hold: "node.labels.ssd == true", "node.role != manager", "node.name in (n1, n2)".',
  'Service.spec.placement.spread': 'Node label paths to spread tasks over evenly, hierarchically: node.labels.datacenter.',
  'Service.spec.placement.tolerations': 'Node taints this service tolerates.',
  'Service.spec.placement.tolerations.key': 'Taint key matched (empty with operator Exists: every taint).',
  'Service.spec.placement.tolerations.operator': 'Equal: key and value match; Exists: the key is enough.',
  'Service.spec.placement.tolerations.value': 'Taint value matched with operator Equal.',
  'Service.spec.placement.tolerations.effect': 'Taint effect matched; absent: every effect.',
  'Service.spec.placement.strategy': 'spread: prefer the emptiest nodes; binpack: fill nodes up first.',
  'Service.spec.probes': 'Readiness, liveness and startup checks of each task.',
  'Service.spec.probes.readiness': 'Until it passes, a task gets no traffic and does not count as ready.',
  'Service.spec.probes.liveness': 'When it fails, the task is restarted.',
  'Service.spec.probes.startup': 'Holds back the other probes until it passes once (slow starters).',
  'Service.spec.update': 'How a new revision of the spec replaces the running tasks.',
  'Service.spec.update.strategy': 'rolling: replace tasks in batches; blue-green: start a full new set, switch on promote; canary: shift traffic by steps.',
  'Service.spec.update.parallelism': 'Tasks replaced at once (0: all at once).',
  'Service.spec.update.delaySeconds': 'Seconds to wait between batches.',
  'Service.spec.update.failureAction': 'On a failed update: pause, continue, or rollback to the previous revision.',
  'Service.spec.update.order': 'stop-first: stop the old task, then start the new; start-first: the reverse.',
  'Service.spec.update.monitorSeconds': 'Seconds each new task is watched for failure after it starts.',
  'Service.spec.update.maxFailureRatio': 'Share of failed tasks (0 to 1) tolerated during an update.',
  'Service.spec.update.progressDeadlineSeconds': 'Seconds without progress after which the rollout fails.',
  'Service.spec.update.scaleDownDelaySeconds': 'Blue-green: seconds the old revision is kept after promotion, for undo.',
  'Service.spec.update.steps': 'Canary steps: {weight: 1..100} sends that share of traffic to the new revision; {pause: {}} waits for promote, {pause: {seconds: N}} for N seconds.',
  'Service.spec.update.steps.weight': 'Percentage of traffic for the new revision (rising from step to step).',
  'Service.spec.update.steps.pause': 'Wait: for promote ({}), or for seconds.',
  'Service.spec.update.steps.pause.seconds': 'Seconds to wait before the next step.',
  'Service.spec.restart': 'When a task that ended is replaced.',
  'Service.spec.restart.condition': 'any: always; on-failure: only after a non-zero exit; none: never.',
  'Service.spec.restart.delaySeconds': 'First delay before a restart; doubles after each failure.',
  'Service.spec.restart.maxDelaySeconds': 'Upper bound of the restart delay.',
  'Service.spec.secrets': 'Secrets mounted as files on tmpfs in the container.',
  'Service.spec.secrets.source': 'Name of the Secret.',
  'Service.spec.secrets.target': 'File path in the container (default: /run/secrets/SOURCE).',
  'Service.spec.secrets.mode': 'File mode (default 0400).',
  'Service.spec.secrets.uid': 'File owner uid.',
  'Service.spec.secrets.gid': 'File owner gid.',
  'Service.spec.configs': 'Configs mounted as files in the container.',
  'Service.spec.configs.source': 'Name of the Config.',
  'Service.spec.configs.target': 'File path in the container (default: /SOURCE).',
  'Service.spec.configs.mode': 'File mode (default 0444).',
  'Service.spec.volumes': 'Volumes, tmpfs and bind mounts of the container.',
  'Service.spec.volumes.type': 'volume: a named Volume; tmpfs: memory-backed; bind: a host path.',
  'Service.spec.volumes.source': 'Volume name (type volume) or absolute host path (type bind); none for tmpfs.',
  'Service.spec.volumes.target': 'Mount point in the container (absolute, not /).',
  'Service.spec.volumes.readOnly': 'Mount read-only.',
  'Service.spec.volumes.size': 'tmpfs size, like 64Mi.',
  'Service.spec.stopGracePeriodSeconds': 'Seconds between SIGTERM and SIGKILL when a task stops.',
  'Service.spec.restartedAt': 'Set by flotilla rollout restart: a change here replaces every task.',
  'Service.status': 'What the controllers observed; written by the server, not by users.',
  'Service.status.replicas': 'Tasks running.',
  'Service.status.readyReplicas': 'Tasks running whose readiness probe passes.',
  'Service.status.vip': 'Virtual IP of the service.',
  'Service.status.observedGeneration': 'The metadata.generation the controller last acted on.',
  Secret: 'Sensitive data (keys to base64 values), encrypted at rest, mounted only into the tasks that use it.',
  'Secret.spec': 'The secret data.',
  'Secret.spec.data': 'Keys to base64-encoded values; each key becomes a file name in the mount.',
  'Secret.spec.stringData': 'Keys to plain-text values (stored like data).',
  Config: 'Non-sensitive configuration files (keys to base64 values) mounted into tasks.',
  'Config.spec': 'The config data.',
  'Config.spec.data': 'Keys to base64-encoded values; each key becomes a file name in the mount.',
  Event: 'Something that happened to an object (written by the components), shown by describe and flotilla events.',
  Volume: 'A named volume that tasks mount; created on the node where it is first used.',
  'Volume.spec': 'How the volume is provided.',
  'Volume.spec.driver': 'Volume driver: local (a directory on the node).',
  NetworkPolicy: 'Which traffic may reach (and leave) the selected services: not supported yet (refused by the API).',
  TrustPolicy: 'Which signed images may run: not supported yet (refused by the API).',
  Revocation: 'A revoked certificate or key: not supported yet (refused by the API).',
  Role: 'A named set of rules (kinds and verbs) that grants hand out.',
  'Role.spec.rules': 'What the role allows: each rule lists kinds and verbs.',
  Grant: 'Gives a user or group a role on a collection of objects (a namespace, optionally narrowed by labels).',
  'Grant.spec.subject': 'Who: user:NAME or group:NAME.',
  'Grant.spec.role': 'Name of the Role (or a built-in role such as view, edit, admin).',
  'Grant.spec.collection': 'Where the role applies: a namespace, and labels the objects must carry.',
  User: 'A client identity; flotilla user create writes its client config.',
  Ingress: 'HTTP(S) routes from host names and paths to services, served by the agents on published ports.',
  'Ingress.spec.rules': 'Routes by host, then path.',
  'Ingress.spec.tls': 'Host names served over TLS, with the Secret holding the certificate and key.',
  JoinToken: 'A token that lets a new node join (flotilla token create).',
  Lease: 'Who holds a lease (the leader, a node heartbeat) and until when.',
  Task: 'One container of a service on one node; created by the service controller, placed by the scheduler, run by the agent.',
  'Task.spec': 'What the task runs and where; written by the controllers and the scheduler.',
  'Task.spec.service': 'Name of the service the task belongs to.',
  'Task.spec.serviceGeneration': 'The service generation the task was made from.',
  'Task.spec.slot': 'Slot number of a replicated service (stable across replacements).',
  'Task.spec.node': 'Node the task is assigned to (empty until scheduled).',
  'Task.spec.image': 'Image the task runs.',
  'Task.spec.desiredState': 'running, or shutdown when it should stop.',
  'Task.spec.template': 'The service spec the task was made from.',
  'Task.spec.revision': 'The service revision the task belongs to.',
  'Task.status': 'What the agent reports.',
  'Task.status.state': 'Lifecycle state: new, pending, assigned, preparing, starting, running, complete, failed, shutdown, rejected, orphaned.',
  'Task.status.desiredState': 'The desired state the agent acted on.',
  'Task.status.ready': 'True once its readiness probe (if any) passes.',
  'Task.status.ip': 'Address on the container network.',
  'Task.status.pid': 'Host PID of the container first process, while running.',
  'Task.status.exitCode': 'Exit code once the container ended.',
  'Task.status.message': 'Why, when it is not running.',
  'Task.status.timestamp': 'When the state last changed.',
  'Task.status.containerId': 'Runtime id of the container.',
  Node: 'A machine running the flotilla agent; cluster-scoped.',
  'Node.spec': 'What an admin may change about a node.',
  'Node.spec.availability': 'active: gets tasks; pause: keeps its tasks, gets no new ones; drain: its tasks move away.',
  'Node.spec.role': 'worker, or manager.',
  'Node.spec.taints': 'Repel tasks that do not tolerate them.',
  'Node.spec.taints.key': 'Taint key (a label key).',
  'Node.spec.taints.value': 'Taint value.',
  'Node.spec.taints.effect': 'NoSchedule: no new tasks; NoExecute: running ones are moved too; PreferNoSchedule: avoided if possible.',
  'Node.spec.podCIDR': 'Container subnet of the node (IPv4 CIDR).',
  'Node.status': 'What the agent reports.',
  'Node.status.state': 'ready, down (no heartbeat), or unknown.',
  'Node.status.RESOURCES': 'Amounts of the node.',
  'Node.status.capacity': 'What the machine has.',
  'Node.status.allocatable': 'What tasks may be given (capacity minus reserved).',
  'Node.status.heartbeat': 'Time of the last heartbeat.',
  'Node.status.address': 'Address the node is reached at.',
  'Node.status.podCIDR': 'Container subnet in use.',
  'Node.status.message': 'Why, when it is not ready.',
  'Node.status.agentVersion': 'Version of the agent.',
  'Node.status.volumesDir': 'Where local volumes live.',
};

for (const [k, v] of Object.entries(PROBE)) TABLE[k === '' ? 'Service.spec.probes.PROBE' : `Service.spec.probes.PROBE.${k}`] = v;
for (const [k, v] of Object.entries(RESOURCE_LIST)) {
  TABLE[`Service.spec.resources.LIST.${k}`] = v;
  TABLE[`Node.status.RESOURCES.${k}`] = v;
}

const ALIASES: [RegExp, string][] = [
  [/^Task\.spec\.template\./, 'Service.spec.'],
  [/^Service\.spec\.probes\.(readiness|liveness|startup)\./, 'Service.spec.probes.PROBE.'],
  [/^Service\.spec\.resources\.(requests|limits)\./, 'Service.spec.resources.LIST.'],
  [/^Node\.status\.(capacity|allocatable)\./, 'Node.status.RESOURCES.'],
  [/^[A-Za-z]+\.(apiVersion|kind|metadata)/, '$1'],
];

/** The table key for a path: aliases applied until none matches. */
export function docKey(path: string): string {
  let key = path;
  for (let changed = true; changed;) {
    changed = false;
    for (const [re, to] of ALIASES) {
      const next = key.replace(re, to);
      if (next !== key) {
        key = next;
        changed = true;
      }
    }
  }
  return key;
}

/** The description of `Kind.path` (path may be ''), if written. */
export function describeField(path: string): string | undefined {
  return TABLE[docKey(path)];
}
