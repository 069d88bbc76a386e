/**
 * The `flotilla` entry point (bin/flotilla runs the built copy of this file): wires the real
 * process (stdout, stderr, stdin, environment, clock, API client) into runCli and exits with
 * its status.
 */
import { openApiClient } from './client.js';
import { runCli } from './program.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const code = await runCli(process.argv.slice(2), {
  io: {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    readStdin,
  },
  env: process.env,
  now: () => new Date(),
  openClient: openApiClient,
});
// Exit now: a client keep-alive socket or a stray timer must not keep a finished command alive.
// stdout and stderr are synchronous on Linux for files, pipes and terminals, so nothing is lost.
process.exit(code);
