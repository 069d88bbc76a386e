/**
 * The Flotilla client library: config loading and ApiClient (a Store over HTTPS).
 */
export { ApiClient, type ApiClientOptions, type ApplyResult } from './api-client.js';
export { ClientConfigError, DEFAULT_CONFIG_PATH, clientConfigPath, loadClientConfig, type ClientConfig } from './config.js';
export type { RemoteWatchOptions } from './watch.js';
export type { ExecOutcome, ExecSinks, LogTarget } from './streams.js';
