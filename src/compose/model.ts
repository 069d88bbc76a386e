/**
 * The part of the Compose model (compose-spec, schema/compose-spec.json) that the mapping
 * reads, typed loosely: the schema has checked the shapes, but numbers and booleans may still
 * be strings (the specification allows strings everywhere for interpolation), so the mapping
 * reads them with units.ts. Fields not listed here are looked at by name in unsupported.ts.
 */

export type Scalar = string | number | boolean | null;

export interface ComposeProject {
  name?: string;
  services?: Record<string, ComposeService>;
  networks?: Record<string, ComposeNetwork | null>;
  volumes?: Record<string, ComposeVolume | null>;
  secrets?: Record<string, ComposeFileObject>;
  configs?: Record<string, ComposeFileObject>;
  [field: string]: unknown;
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[] | null;
  entrypoint?: string | string[] | null;
  environment?: Record<string, Scalar> | string[];
  env_file?: string | Array<string | { path: string; required?: boolean | string }>;
  working_dir?: string;
  user?: string;
  ports?: Array<number | string | ComposePortLong>;
  expose?: Array<number | string>;
  deploy?: ComposeDeploy | null;
  healthcheck?: ComposeHealthcheck;
  secrets?: Array<string | ComposeFileRef>;
  configs?: Array<string | ComposeFileRef>;
  volumes?: Array<string | ComposeVolumeLong>;
  tmpfs?: string | string[];
  networks?: string[] | Record<string, unknown>;
  labels?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean | string; restart?: boolean | string }>;
  restart?: string;
  stop_grace_period?: string;
  [field: string]: unknown;
}

export interface ComposePortLong {
  target?: number | string;
  published?: number | string;
  host_ip?: string;
  protocol?: string;
  mode?: string;
  name?: string;
  app_protocol?: string;
}

export interface ComposeDeploy {
  mode?: string;
  replicas?: number | string;
  labels?: Record<string, Scalar> | string[];
  resources?: {
    limits?: { cpus?: number | string; memory?: string; pids?: number | string; [f: string]: unknown };
    reservations?: { cpus?: number | string; memory?: string; [f: string]: unknown };
  };
  placement?: { constraints?: string[]; preferences?: Array<{ spread?: string }>; max_replicas_per_node?: number | string };
  update_config?: ComposeUpdateConfig;
  rollback_config?: ComposeUpdateConfig;
  restart_policy?: { condition?: string; delay?: string; max_attempts?: number | string; window?: string };
  [field: string]: unknown;
}

export interface ComposeUpdateConfig {
  parallelism?: number | string;
  delay?: string;
  failure_action?: string;
  monitor?: string;
  max_failure_ratio?: number | string;
  order?: string;
}

export interface ComposeHealthcheck {
  test?: string | string[];
  interval?: string;
  timeout?: string;
  retries?: number | string;
  start_period?: string;
  start_interval?: string;
  disable?: boolean | string;
}

export interface ComposeFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number | string;
}

export interface ComposeVolumeLong {
  type: string;
  source?: string;
  target?: string;
  read_only?: boolean | string;
  tmpfs?: { size?: number | string; mode?: number | string };
  [field: string]: unknown;
}

export interface ComposeNetwork {
  external?: boolean | string | { name?: string };
  name?: string;
  [field: string]: unknown;
}

export interface ComposeVolume {
  external?: boolean | string | { name?: string };
  name?: string;
  driver?: string;
  [field: string]: unknown;
}

export interface ComposeFileObject {
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean | string | { name?: string };
  name?: string;
  [field: string]: unknown;
}
