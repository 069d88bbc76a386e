/**
 * `flotilla version [--client] [-o text|json]`: the CLI's version, then the server's (GET
 * /version, no credential needed). When the server cannot be asked, the client line is still
 * printed, then one error line, and the exit status is 1 (as kubectl does): a script can tell
 * "no server" from "server answered"; `--client` asks no server and exits 0.
 */
import { Option, type Command } from 'commander';
import { versionInfo, type VersionInfo } from '../../server/version.js';
import type { CliClient, CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/output.js';

/** What `version` needs of the client beyond CliClient (ApiClient has it). */
export interface VersionClient {
  version(): Promise<VersionInfo>;
}

function versionClient(c: CliClient): VersionClient {
  const v = c as CliClient & Partial<VersionClient>;
  if (typeof v.version !== 'function') throw new UsageError('this client cannot ask the server for its version');
  return v as CliClient & VersionClient;
}

/** `0.1.0` or `0.1.0 (commit abc123)`. */
export function versionText(v: VersionInfo): string {
  return v.commit !== undefined ? `${v.version} (commit ${v.commit})` : v.version;
}

/** Registers `version`. */
export function registerVersion(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('print the client version and the server version')
    .option('--client', 'the client version only (asks no server)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: { client?: boolean; output: 'text' | 'json' }) => {
      const client = versionInfo();
      let server: VersionInfo | undefined;
      let failure: unknown;
      if (opts.client !== true) {
        try {
          server = await versionClient(await ctx.client()).version();
        } catch (err) {
          failure = err;
        }
      }
      if (opts.output === 'json') ctx.io.out(toJson({ clientVersion: client, ...(server !== undefined ? { serverVersion: server } : {}) }));
      else ctx.io.out(`Client Version: ${versionText(client)}\n${server !== undefined ? `Server Version: ${versionText(server)}\n` : ''}`);
      if (failure !== undefined) throw failure;
    });
}
