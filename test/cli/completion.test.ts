/**
 * Shell completion: the candidates `__complete` computes from the command tree (a command added
 * to the tree completes with no other change), object names through the client (quiet when
 * there is no server), and the generated scripts driven by a real bash against a real server
 * (COMP_WORDS/COMP_CWORD and the completion function, as bash calls it on TAB). zsh is tested
 * the same way when installed; otherwise only its script's generation is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/program.js';
import { CliContext } from '../../src/cli/context.js';
import { completions, type NameLister } from '../../src/cli/completion/complete.js';
import type { Kind } from '../../src/api/object.js';
import { service, startTestServer, type TestServer } from '../server/helpers.js';
import { ROOT } from './cli-process.js';
import { FakeClient, fakeDeps, obj, runWithFake } from './fake-client.js';

// Async: the server under test runs in this process and must keep answering meanwhile.
const run = promisify(execFile);

const asked: string[] = [];
const lister: NameLister = (kind: Kind, namespace: string | undefined) => {
  asked.push(`${kind} ${namespace ?? '*'}`);
  return Promise.resolve([`${kind.toLowerCase()}-a`, `${kind.toLowerCase()}-b`]);
};

async function words(...args: string[]): Promise<string[]> {
  const program = buildProgram(new CliContext(fakeDeps(new FakeClient()).deps));
  return (await completions(program, args, lister)).map((c) => c.word);
}

void describe('__complete: candidates from the command tree', () => {
  void it('commands, subcommands and their prefixes', async () => {
    const top = await words('');
    for (const c of ['get', 'apply', 'rollout', 'node', 'completion', 'explain', 'version']) assert.ok(top.includes(c), c);
    assert.ok(!top.includes('__complete'));
    assert.deepEqual(await words('ro'), ['rollout']);
    assert.deepEqual(await words('rollout', 'st'), ['status']);
    assert.deepEqual(await words('node', 'd'), ['drain']);
    assert.deepEqual(await words('completion', ''), ['bash', 'zsh']);
  });

  void it('options of the command and its parents, and option values', async () => {
    const opts = await words('get', 'svc', '--');
    for (const o of ['--config', '--namespace', '--selector', '--output', '--watch', '--help']) assert.ok(opts.includes(o), o);
    assert.deepEqual(await words('get', 'svc', '-o', ''), ['table', 'wide', 'json', 'yaml', 'name']);
    assert.deepEqual(await words('get', 'svc', '--output', '=', 'j'), ['json'], 'bash splits --output=j at "="');
    assert.deepEqual(await words('apply', '-f', ''), [], 'a file: the shell completes file names');
    assert.deepEqual(await words('exec', 't1', '--', ''), []);
  });

  void it('kinds, and object names of the right kind and namespace', async () => {
    asked.length = 0;
    const kinds = await words('get', '');
    assert.equal(kinds[0], 'all');
    for (const k of ['services', 'tasks', 'nodes', 'secrets']) assert.ok(kinds.includes(k), k);
    assert.deepEqual(await words('get', 'se'), ['services', 'secrets']);
    assert.deepEqual(await words('scale', ''), ['service']);
    assert.deepEqual(await words('get', 'svc', ''), ['service-a', 'service-b']);
    assert.deepEqual(await words('describe', 'services', 'service-b'), ['service-b']);
    await words('get', 'tasks', '-n', 'prod', '');
    await words('delete', 'tasks', '-A', '');
    await words('get', 'nodes', '');
    await words('node', 'drain', '');
    await words('exec', '');
    await words('logs', '');
    await words('--config', '/x.json', 'get', 'svc', '-o', 'json', '');
    assert.deepEqual(asked, ['Service default', 'Service default', 'Task prod', 'Task *', 'Node *', 'Node *', 'Task default', 'Task default', 'Service default']);
  });

  void it('completes a command added to the tree without any other change', async () => {
    const program = buildProgram(new CliContext(fakeDeps(new FakeClient()).deps));
    program.command('fleet').command('rm').argument('<name>').option('--force', 'no questions');
    assert.deepEqual((await completions(program, ['fle'], lister)).map((c) => c.word), ['fleet']);
    assert.deepEqual((await completions(program, ['fleet', ''], lister)).map((c) => c.word), ['rm']);
    assert.deepEqual((await completions(program, ['fleet', 'rm', 'x', '--f'], lister)).map((c) => c.word), ['--force']);
  });

  void it('runs through runCli: names from the client; silent without a server', async () => {
    const ok = await runWithFake(['__complete', 'get', 'svc', ''], new FakeClient([obj('Service', 'web', {}), obj('Service', 'api', {})]));
    assert.deepEqual({ code: ok.code, out: ok.out, err: ok.err }, { code: 0, out: 'api\nweb\n', err: '' });
    const cmds = await runWithFake(['__complete', 'rollout', 'p'], new FakeClient());
    assert.equal(cmds.out, 'pause\tpause the rollout in progress\npromote\tpromote a blue-green or canary rollout waiting for promotion\n');
    const { deps, captured } = fakeDeps(new FakeClient());
    deps.openClient = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const { runCli } = await import('../../src/cli/program.js');
    assert.equal(await runCli(['__complete', 'get', 'svc', ''], deps), 0);
    assert.deepEqual(captured, { out: '', err: '' });
  });
});

function hasShell(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

void describe('the scripts in a real shell', { timeout: 180_000 }, () => {
  let ts: TestServer;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ts = await startTestServer();
    await ts.client.apply([service('web', 'busybox:1', { app: 'web' }), service('worker', 'busybox:1'), service('api', 'busybox:1', {}, 'prod')]);
    bin = mkdtempSync(join(tmpdir(), 'flotilla-completion-'));
    // A `flotilla` on PATH that runs this source tree, as bin/flotilla runs the build.
    writeFileSync(join(bin, 'flotilla'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
    chmodSync(join(bin, 'flotilla'), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, FLOTILLA_CONFIG: join(ts.dir, 'admin.json'), FLOTILLA_DEBUG: '' };
  });

  after(async () => {
    await ts?.cleanup();
    if (bin !== undefined) rmSync(bin, { recursive: true, force: true });
  });

  /** COMPREPLY for each line of words, in one bash that sourced the script. */
  async function bashComplete(lines: string[][], extraEnv: NodeJS.ProcessEnv = {}): Promise<string[]> {
    const calls = lines.map((ws) => `t ${ws.map((w) => `'${w}'`).join(' ')}`).join('\n');
    const script = `source <(flotilla completion bash) || exit 9
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _flotilla_complete; echo "\${COMPREPLY[*]}"; }
complete -p flotilla
${calls}`;
    const { stdout } = await run('bash', ['-c', script], { cwd: ROOT, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 150_000 });
    return stdout.replace(/\n$/, '').split('\n');
  }

  void it('bash: commands, options, kinds and object names from the server', async () => {
    const out = await bashComplete([
      ['flotilla', 'ro'],
      ['flotilla', 'rollout', 'st'],
      ['flotilla', 'get', 'svc', '-o', ''],
      ['flotilla', 'get', 'svc', '--output', '=', 'y'],
      ['flotilla', 'get', 'ser'],
      ['flotilla', 'get', 'services', ''],
      ['flotilla', 'describe', 'service', 'w'],
      ['flotilla', 'get', 'svc', '-n', 'prod', ''],
      ['flotilla', 'get', 'nodes', ''],
    ]);
    assert.equal(out[0], 'complete -o default -F _flotilla_complete flotilla');
    assert.deepEqual(out.slice(1), ['rollout', 'status', 'table wide json yaml name', 'yaml', 'services', 'web worker', 'web worker', 'api', '']);
  });

  void it('bash: no server, no names, no noise; commands still complete', async () => {
    const out = await bashComplete([['flotilla', 'get', 'svc', ''], ['flotilla', 'ver']], { FLOTILLA_CONFIG: join(bin, 'missing.json') });
    assert.deepEqual(out.slice(1), ['', 'version']);
  });

  void it('zsh: the script is generated (and driven when zsh is installed)', async (t) => {
    const r = await runWithFake(['completion', 'zsh'], new FakeClient());
    assert.equal(r.code, 0);
    assert.match(r.out, /^#compdef flotilla\n/);
    assert.match(r.out, /__complete "\$\{\(@\)words\[2,CURRENT\]\}"/);
    assert.match(r.out, /compdef _flotilla flotilla/);
    if (!hasShell('zsh')) {
      t.diagnostic('zsh is not installed here: only the script generation is tested');
      return;
    }
    const script = `autoload -U compinit && compinit -u
source <(flotilla completion zsh)
words=(flotilla rollout st); CURRENT=3
compadd() { shift $(( $# - 1 )); print -l -- "\${(P)1[@]}" }
_flotilla`;
    const { stdout } = await run('zsh', ['-c', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    assert.match(stdout, /^status$/m);
  });
});
