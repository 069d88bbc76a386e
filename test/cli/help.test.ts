/**
 * Help and usage errors of the whole command tree: every command has examples in its --help
 * (the failure lists the command paths missing from src/cli/help/examples.ts), unknown commands
 * and kinds suggest the closest name, and representative failures print one `error:` line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/program.js';
import { CliContext } from '../../src/cli/context.js';
import { commandsOf, oneLineUsageError, pathsWithoutExamples } from '../../src/cli/help/decorate.js';
import { EXAMPLES } from '../../src/cli/help/examples.js';
import { FakeClient, assertOneErrorLine, fakeDeps, obj, runWithFake } from './fake-client.js';

function tree(): ReturnType<typeof buildProgram> {
  return buildProgram(new CliContext(fakeDeps(new FakeClient()).deps));
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 });

/** A client whose every call fails as an unreachable server does. */
class UnreachableClient extends FakeClient {
  override list(): never {
    throw refused;
  }
  override get(): never {
    throw refused;
  }
}

void describe('--help examples', () => {
  void it('every registered command has an entry in src/cli/help/examples.ts', (t) => {
    const known = new Set(commandsOf(tree()).map((c) => c.path));
    const unused = Object.keys(EXAMPLES).filter((p) => !known.has(p));
    if (unused.length > 0) t.diagnostic(`examples for commands not registered (yet): ${unused.join(', ')}`);
    const missing = pathsWithoutExamples(tree());
    assert.deepEqual(missing, [], `add examples to src/cli/help/examples.ts for: ${missing.join(', ')}`);
  });

  void it('names exactly the commands that lack examples (what the lead adds at merge)', () => {
    const program = tree();
    program.command('fleet').command('launch');
    program.commands.find((c) => c.name() === 'node')?.command('reboot');
    program.command('hidden-one', { hidden: true });
    assert.deepEqual(pathsWithoutExamples(program), ['node reboot', 'fleet', 'fleet launch']);
  });

  void it('the walk sees nested commands, and --help prints their examples', async () => {
    const paths = commandsOf(tree()).map((c) => c.path);
    for (const p of ['get', 'rollout status', 'node drain', 'secret create', 'completion', 'explain', 'version']) assert.ok(paths.includes(p), p);
    const r = await runWithFake(['rollout', 'status', '--help'], new FakeClient());
    assert.equal(r.code, 0);
    assert.match(r.out, /Examples:\n {2}flotilla rollout status service web/);
    const g = await runWithFake(['get', '--help'], new FakeClient());
    assert.match(g.out, /-o, --output <format>.*\n.*"name"/);
    assert.match(g.out, /Examples:[\s\S]*flotilla get tasks --watch/);
  });
});

void describe('suggestions', () => {
  void it('an unknown subcommand names its parent and the closest command, on one line', async () => {
    const r = await runWithFake(['rollout', 'stauts', 'service', 'web'], new FakeClient());
    assert.equal(r.code, 2);
    assert.equal(r.err, "error: unknown command 'stauts' for 'flotilla rollout' (did you mean status?)\n");
    const top = await runWithFake(['gte', 'svc'], new FakeClient());
    assert.equal(top.err, "error: unknown command 'gte' (did you mean get?)\n");
    const node = await runWithFake(['node', 'dran', 'n1'], new FakeClient());
    assert.equal(node.err, "error: unknown command 'dran' for 'flotilla node' (did you mean drain?)\n");
  });

  void it('a mistyped option suggests the closest option, on one line', async () => {
    const r = await runWithFake(['get', 'svc', '--outptu', 'json'], new FakeClient());
    assert.equal(r.code, 2);
    assertOneErrorLine(r.err, /^error: unknown option '--outptu' \(did you mean --output\?\)$/);
  });

  void it('a mistyped KIND suggests the closest kind name', async () => {
    const r = await runWithFake(['get', 'servces'], new FakeClient());
    assert.equal(r.code, 2);
    assertOneErrorLine(r.err, /^error: unknown kind "servces" \(did you mean services\?\): expected one of node, service, task/);
    const d = await runWithFake(['describe', 'nod', 'n1'], new FakeClient());
    assertOneErrorLine(d.err, /\(did you mean node\?\)/);
  });

  void it('joins commander lines into one', () => {
    assert.equal(oneLineUsageError("error: unknown command 'x'\n(Did you mean y?)\n", 'a b'), "error: unknown command 'x' for 'flotilla a b' (did you mean y?)\n");
    assert.equal(oneLineUsageError("error: missing required argument 'kind'\n", 'get'), "error: missing required argument 'kind'\n");
  });
});

void describe('errors: one clear line with where and what', () => {
  const web = obj('Service', 'web', { replicas: 1, image: 'x' }, undefined, { labels: { app: 'web' } });
  const cases: { argv: string[]; code: number; re: RegExp; client?: FakeClient }[] = [
    { argv: ['get', 'svc', '-l', 'app=web=x'], code: 2, re: /^error: -l app=web=x: expected KEY=VALUE, KEY!=VALUE, KEY or !KEY \(comma-separated\), found "app=web=x"$/ },
    { argv: ['get', 'svc', 'web', '-l', 'app=web'], code: 2, re: /^error: a NAME and -l cannot be combined$/ },
    { argv: ['delete', 'svc', 'web', '-l', 'app=web'], code: 2, re: /^error: a NAME and -l cannot be combined$/ },
    { argv: ['delete', 'svc', '-A'], code: 2, re: /^error: -A needs -l SELECTOR$/ },
    { argv: ['get', 'all', 'web'], code: 2, re: /^error: get all takes no NAME/ },
    { argv: ['describe', 'service'], code: 2, re: /^error: missing required argument 'name'$/ },
    { argv: ['explain', 'service.spec.replics'], code: 2, re: /^error: explain service\.spec\.replics: no field "replics" in service\.spec \(did you mean replicas\?\)/ },
    { argv: ['get', 'svc', 'nope'], code: 1, re: /^error: service "nope" not found in namespace default$/ },
    { argv: ['get', 'svc'], code: 1, re: /^error: cannot reach the API server at 127\.0\.0\.1:1: connection refused$/, client: new UnreachableClient() },
    { argv: ['completion', 'fish'], code: 2, re: /^error: command-argument value 'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh\.$/ },
  ];
  for (const c of cases) {
    void it(c.argv.join(' '), async () => {
      const r = await runWithFake(c.argv, c.client ?? new FakeClient([web]));
      assert.equal(r.code, c.code, r.err);
      assertOneErrorLine(r.err, c.re);
      assert.equal(r.out, '');
    });
  }
});
