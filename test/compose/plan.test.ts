/**
 * planDeploy: what a deploy applies, holds back for depends_on, leaves stale, and refuses
 * (objects of the same name that the stack does not own).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../src/api/object.js';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { STACK_LABEL } from '../../src/compose/names.js';
import { dependencyMet, planDeploy } from '../../src/compose/plan.js';
import { mapText } from './helpers.js';

const FILE = `services:
  web: {image: busybox:1, depends_on: [api], deploy: {replicas: 2}}
  api: {image: busybox:1, depends_on: {db: {condition: service_healthy}}, expose: ["80"]}
  db: {image: busybox:1, expose: ["5432"]}
  agent: {image: busybox:1, deploy: {mode: global}, depends_on: [db]}
secrets:
  pw: {environment: PW}
`;

const stored = (kind: ApiObject['kind'], name: string, labels: Record<string, string>, spec: unknown = {}): ApiObject => ({ kind, metadata: { name, namespace: 'demo', uid: name, labels, revision: 3, generation: 1, creationTimestamp: '' }, spec });

void describe('stack deploy plan', () => {
  const stack = mapText(FILE, { env: { PW: 'x' } });

  void it('holds new services that depend on others at 0 replicas, in depends_on order; global ones are not held', () => {
    const plan = planDeploy(stack, []);
    assert.deepEqual(plan.starts.map((s) => [s.service, s.replicas, s.waitFor.map((d) => `${d.on}:${d.condition}`)]), [
      ['api', 1, ['db:service_healthy']],
      ['web', 2, ['api:service_started']],
    ]);
    const replicas = Object.fromEntries(plan.apply.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, (o.spec as ServiceSpec).replicas]));
    assert.deepEqual(replicas, { web: 0, api: 0, db: 1, agent: 1 });
    assert.deepEqual(plan.conflicts, []);
    assert.deepEqual(stack.warnings.map((w) => `${w.path}: ${w.reason}`), ['services.agent.depends_on: not honoured for mode: global (a global service cannot wait at 0 replicas): it starts at once']);
  });

  void it('does not hold services that exist already (a second deploy updates in place) and lists stale stack objects', () => {
    const mine = { [STACK_LABEL]: 'demo' };
    const plan = planDeploy(stack, [stored('Service', 'api', mine), stored('Service', 'old', mine), stored('Secret', 'pw', mine), stored('Config', 'other-stack', { [STACK_LABEL]: 'else' })]);
    assert.deepEqual(plan.starts.map((s) => s.service), ['web']);
    assert.equal((plan.apply.find((o) => o.metadata.name === 'api')?.spec as ServiceSpec).replicas, 1);
    assert.deepEqual(plan.stale.map((o) => `${o.kind}/${o.metadata.name}`), ['Service/old']);
  });

  void it('refuses to take over objects it did not create', () => {
    const plan = planDeploy(stack, [stored('Secret', 'pw', {}), stored('Service', 'db', { [STACK_LABEL]: 'other' })]);
    assert.deepEqual(plan.conflicts, [
      'secret pw already exists in namespace demo and is not part of a stack: not replaced',
      'service db already exists in namespace demo and is part of stack other: not replaced',
    ]);
  });

  void it('decides when a dependency is up: started = one ready task, healthy = all desired ready', () => {
    const svc = (replicas: number, ready: number): ApiObject => ({ ...stored('Service', 'db', {}, { mode: 'replicated', replicas }), status: { readyReplicas: ready } });
    assert.equal(dependencyMet(undefined, 'service_started'), false);
    assert.equal(dependencyMet(svc(3, 1), 'service_started'), true);
    assert.equal(dependencyMet(svc(3, 2), 'service_healthy'), false);
    assert.equal(dependencyMet(svc(3, 3), 'service_healthy'), true);
    assert.equal(dependencyMet(svc(0, 0), 'service_healthy'), true);
  });
});
