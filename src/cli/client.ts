/**
 * Opens the real API client for the CLI: the config comes from --config, else
 * $FLOTILLA_CONFIG, else /var/lib/flotilla/admin.json (loadClientConfig decides the order).
 */
import type { CliClient } from './context.js';

/** The CliDeps.openClient used by main.ts. */
export async function openApiClient(configPath: string | undefined): Promise<CliClient> {
  // Loaded on demand, so that usage errors and `--help` answer without loading the client.
  const { ApiClient } = await import('../client/index.js');
  return ApiClient.fromConfigFile(configPath);
}
