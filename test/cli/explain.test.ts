/**
 * `flotilla explain`: the schema walk (type, required, default, enum, subfields) matches the zod
 * schemas the API validates with, every Service, Task and Node field has a description, and
 * unknown kinds and fields are refused naming the closest one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeField } from '../../src/cli/explain/field-docs.js';
import { findField, kindFields } from '../../src/cli/commands/explain.js';
import type { FieldInfo } from '../../src/cli/explain/schema-fields.js';
import { KINDS } from '../../src/api/object.js';
import { FakeClient, assertOneErrorLine, runWithFake } from './fake-client.js';

function paths(prefix: string, f: FieldInfo): string[] {
  return [...(f.fields ?? [])].flatMap(([name, child]) => [`${prefix}.${name}`, ...paths(`${prefix}.${name}`, child)]);
}

void describe('explain: the schema walk', () => {
  void it('reads type, required, default and allowed values from the schemas', () => {
    const strategy = findField('Service', ['spec', 'update', 'strategy']);
    assert.deepEqual({ type: strategy.type, required: strategy.required, default: strategy.default, enum: strategy.enum }, { type: 'string', required: false, default: 'rolling', enum: ['rolling', 'blue-green', 'canary'] });
    assert.equal(findField('Service', ['spec', 'image']).required, true);
    assert.equal(findField('Service', ['spec', 'ports']).type, '[]object');
    assert.equal(findField('Service', ['spec', 'ports', 'targetPort']).type, 'integer');
    assert.equal(findField('Service', ['spec', 'env']).type, 'map[string]string');
    assert.equal(findField('Service', ['spec', 'update', 'maxFailureRatio']).type, 'number');
    assert.deepEqual([...(findField('Service', ['spec', 'update', 'steps']).fields?.keys() ?? [])], ['weight', 'pause'], 'both branches of the step union');
    assert.deepEqual(findField('Task', ['status', 'state']).enum?.slice(0, 3), ['new', 'pending', 'assigned']);
    assert.deepEqual([...(kindFields('Node').fields?.keys() ?? [])], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  });

  void it('every kind has a description', () => {
    assert.deepEqual(KINDS.filter((k) => describeField(k) === undefined), []);
  });

  void it('every Service, Task and Node field has a description', () => {
    const missing = (['Service', 'Task', 'Node'] as const).flatMap((k) => [k, ...paths(k, kindFields(k))]).filter((p) => describeField(p) === undefined);
    assert.deepEqual(missing, [], `add to src/cli/explain/field-docs.ts: ${missing.join(', ')}`);
  });
});

void describe('flotilla explain', () => {
  void it('prints a field: type, description, allowed values, default', async () => {
    const r = await runWithFake(['explain', 'svc.spec.update.strategy'], new FakeClient());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, [
      'KIND:     Service',
      'FIELD:    spec.update.strategy <string>',
      '',
      'DESCRIPTION:',
      '    rolling: replace tasks in batches; blue-green: start a full new set, switch on promote; canary: shift traffic by steps.',
      '    one of: rolling, blue-green, canary',
      '    default: rolling',
      '',
    ].join('\n'));
    assert.equal(r.client.calls.length, 0, 'no server asked');
  });

  void it('prints a kind and an object field with their subfields', async () => {
    const k = await runWithFake(['explain', 'node'], new FakeClient());
    assert.match(k.out, /^KIND: +Node\n\nDESCRIPTION:\n {4}A machine running the flotilla agent/);
    assert.match(k.out, /\n {2}spec <object>\n {4}What an admin may change/);
    const p = await runWithFake(['explain', 'service.spec.ports'], new FakeClient());
    assert.match(p.out, /FIELD: +spec\.ports <\[\]object>/);
    assert.match(p.out, /\n {2}port <integer> -required-\n {4}Port on the service virtual IP\.\n/);
    assert.match(p.out, /\n {2}protocol <string>\n {4}tcp or udp\.\n {4}one of: tcp, udp; default: tcp\n/);
    const t = await runWithFake(['explain', 'task.spec.template.replicas'], new FakeClient());
    assert.match(t.out, /Number of tasks for mode replicated\.\n {4}default: 1\n$/, 'a task template is a service spec');
  });

  void it('refuses an unknown field naming the closest, and a path into a scalar', async () => {
    const r = await runWithFake(['explain', 'service.spec.placment'], new FakeClient());
    assert.equal(r.code, 2);
    assertOneErrorLine(r.err, /^error: explain service\.spec\.placment: no field "placment" in service\.spec \(did you mean placement\?\); fields: mode, replicas, /);
    const s = await runWithFake(['explain', 'service.spec.replicas.max'], new FakeClient());
    assertOneErrorLine(s.err, /^error: explain service\.spec\.replicas\.max: service\.spec\.replicas is <integer> and has no fields$/);
    const k = await runWithFake(['explain', 'sevrice.spec'], new FakeClient());
    assertOneErrorLine(k.err, /^error: unknown kind "sevrice" \(did you mean service\?\)/);
    const e = await runWithFake(['explain', 'service..spec'], new FakeClient());
    assertOneErrorLine(e.err, /expected KIND or KIND\.FIELD/);
  });
});
