/**
 * Opens the real API client for the CLI: the config comes from --config, else
 * $FLOTILLA_CONFIG, else /var/lib/flotilla/admin.json (loadClientConfig decides the order).
 */
import type { CliClient } from './context.js';

/** The CliDeps.openClient used by main.ts. */
export async function openApiClient(configPath: string | undefined): Promise<CliClient> {
  const { ApiClient, loadClientConfig } = await import('../client/index.js');
  const config = await loadClientConfig(configPath);
  return new ApiClient(config);
}
