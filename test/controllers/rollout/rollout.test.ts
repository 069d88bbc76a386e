/**
 * The rollout decisions, end to end in the pure simulation (simulate.ts): rolling (stop-first,
 * start-first, delays), failure actions (rollback, pause, continue), blue-green with promotion
 * and canary steps, plus fast-check properties of the capacity bounds during rolling updates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Service, UpdatePolicy } from '../../../src/api/kinds.js';
import { serviceSpec } from '../fixtures.js';
import { Simulation } from './simulate.js';

const V1 = 'registry.local/web:1';
const V2 = 'registry.local/web:2';
const BAD = 'registry.local/web:bad';

function update(over: Partial<UpdatePolicy>): UpdatePolicy {
  return { ...serviceSpec().update, ...over };
}

/** A simulation of `replicas` tasks of V1, settled (revision 1 stable, all ready). */
function settled(replicas: number, u: Partial<UpdatePolicy>, neverReady: string[] = []): Simulation {
  const sim = new Simulation({ replicas, image: V1, update: update(u) }, new Set(neverReady));
  assert.ok(sim.run((s) => s.svc.status?.revision === 1 && s.live().length === replicas && s.live().every((t) => t.status?.ready)), 'v1 settles');
  return sim;
}

const rollout = (s: Simulation): NonNullable<NonNullable<Service['status']>['rollout']> | undefined => s.svc.status?.rollout;
const state = (s: Simulation): string | undefined => rollout(s)?.state;
const images = (s: Simulation): string[] => s.live().map((t) => t.spec.image).sort();

void describe('rollout: rolling', () => {
  it('records revision 1 for a new service and rolls nothing', () => {
    const sim = settled(3, {});
    assert.equal(sim.svc.status?.history?.length, 1);
    assert.equal(rollout(sim), undefined);
    assert.ok(sim.live().every((t) => t.spec.revision === undefined || t.spec.revision === 1));
  });

  it('a change of replicas alone starts no rollout', () => {
    const sim = settled(3, {});
    sim.applySpec({ replicas: 5 });
    sim.run((s) => s.live().length === 5, 20);
    assert.equal(rollout(sim), undefined);
    assert.equal(sim.svc.status?.revision, 1);
  });

  it('stop-first, parallelism 1: 4 replicas move to v2, never fewer than 3 ready', () => {
    const sim = settled(4, { parallelism: 1, monitorSeconds: 1 });
    const start = sim.seen.length;
    sim.applySpec({ image: V2 });
    assert.ok(sim.run((s) => state(s) === 'complete'), `complete (state ${state(sim)}: ${rollout(sim)?.message})`);
    assert.deepEqual(images(sim), [V2, V2, V2, V2]);
    assert.equal(sim.svc.status?.revision, 2);
    for (const o of sim.seen.slice(start + 1)) {
      assert.ok(o.readyRunning >= 3, `ready ${o.readyRunning} at ${o.nowMs}`);
      assert.ok(o.desiredRunning <= 4, `desired running ${o.desiredRunning}`);
    }
    assert.match(rollout(sim)?.message ?? '', /4\/4 tasks updated and ready/);
  });

  it('start-first: never more than replicas + parallelism, never fewer than replicas ready', () => {
    const sim = settled(4, { parallelism: 2, order: 'start-first' });
    const start = sim.seen.length;
    sim.applySpec({ image: V2 });
    assert.ok(sim.run((s) => state(s) === 'complete' && s.live().length === 4));
    assert.deepEqual(images(sim), [V2, V2, V2, V2]);
    for (const o of sim.seen.slice(start + 1)) {
      assert.ok(o.desiredRunning <= 6, `desired running ${o.desiredRunning}`);
      assert.ok(o.readyRunning >= 4, `ready ${o.readyRunning}`);
    }
  });

  it('waits delaySeconds between batches', () => {
    const sim = settled(3, { parallelism: 1, delaySeconds: 10, monitorSeconds: 0 });
    const t0 = sim.nowMs;
    sim.applySpec({ image: V2 });
    assert.ok(sim.run((s) => state(s) === 'complete'));
    assert.ok(sim.nowMs - t0 >= 20_000, `took ${sim.nowMs - t0} ms, two delays of 10 s`);
  });

  it('a never-ready image rolls back by itself: 4 tasks of v1 serve, and the status says why', () => {
    const sim = settled(4, { parallelism: 1, failureAction: 'rollback' }, [BAD]);
    sim.applySpec({ image: BAD });
    assert.ok(sim.run((s) => state(s) === 'rolled-back' && s.live().length === 4 && s.live().every((t) => t.spec.image === V1 && t.status?.ready)), `state ${state(sim)}`);
    assert.equal(sim.svc.spec.image, V1, 'spec back at v1');
    assert.equal(sim.svc.status?.revision, 1);
    assert.match(rollout(sim)?.message ?? '', /^rolled back: 1\/1 new tasks failed the readiness probe/);
  });

  it('failureAction pause stops the rollout with the reason; continue carries on', () => {
    const paused = settled(3, { failureAction: 'pause' }, [BAD]);
    paused.applySpec({ image: BAD });
    assert.ok(paused.run((s) => state(s) === 'paused'));
    assert.match(rollout(paused)?.message ?? '', /paused: 1\/1 new tasks failed the readiness probe/);
    paused.run(() => false, 20);
    assert.equal(paused.live().filter((t) => t.spec.image === BAD).length, 1, 'no further batch while paused');
    const cont = settled(3, { failureAction: 'continue' }, [BAD]);
    cont.applySpec({ image: BAD });
    assert.ok(cont.run((s) => state(s) === 'complete'));
    assert.deepEqual(images(cont), [BAD, BAD, BAD]);
  });

  it('maxFailureRatio tolerates that share of failed tasks', () => {
    const sim = settled(4, { parallelism: 0, failureAction: 'rollback', maxFailureRatio: 0.5 }, [BAD]);
    sim.applySpec({ image: BAD });
    assert.ok(sim.run((s) => state(s) === 'rolled-back'));
    assert.match(rollout(sim)?.message ?? '', /4\/4 new tasks failed the readiness probe/);
  });

  it('a new spec during a rollout rolls from the stable revision to the newest', () => {
    const sim = settled(4, { parallelism: 1, monitorSeconds: 30 });
    sim.applySpec({ image: V2 });
    sim.run(() => false, 4);
    sim.applySpec({ image: 'registry.local/web:3' });
    assert.ok(sim.run((s) => state(s) === 'complete'));
    assert.equal(rollout(sim)?.from, 1);
    assert.equal(rollout(sim)?.revision, 3);
    assert.deepEqual(images(sim), Array(4).fill('registry.local/web:3'));
  });

  it('property: stop-first keeps >= replicas - parallelism ready; start-first <= replicas + parallelism tasks', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (replicas, parallelism, startFirst) => {
      const sim = settled(replicas, { parallelism, order: startFirst ? 'start-first' : 'stop-first', monitorSeconds: 1 });
      const start = sim.seen.length;
      sim.applySpec({ image: V2 });
      assert.ok(sim.run((s) => state(s) === 'complete' && s.live().length === replicas));
      for (const o of sim.seen.slice(start + 1)) {
        if (startFirst) assert.ok(o.desiredRunning <= replicas + parallelism && o.readyRunning >= replicas);
        else assert.ok(o.readyRunning >= replicas - parallelism && o.desiredRunning <= replicas);
      }
    }), { numRuns: 40 });
  });
});

void describe('rollout: blue-green and canary', () => {
  it('blue-green runs the new revision beside the old one, waits for promotion, keeps the old one for undo', () => {
    const sim = settled(3, { strategy: 'blue-green', scaleDownDelaySeconds: 60 });
    sim.applySpec({ image: V2 });
    assert.ok(sim.run((s) => state(s) === 'waiting-promotion'));
    assert.deepEqual(images(sim), [V1, V1, V1, V2, V2, V2]);
    assert.equal(sim.svc.status?.revision, 1, 'the name still serves v1');
    sim.run(() => false, 10);
    assert.equal(state(sim), 'waiting-promotion', 'waits for promote');
    // promote, as the API does it
    const r = rollout(sim);
    assert.ok(r !== undefined);
    sim.setService({ ...sim.svc, status: { ...sim.svc.status, revision: 2, rollout: { ...r, state: 'complete', scaleDownAt: new Date(sim.nowMs + 60_000).toISOString() } } });
    sim.run(() => false, 10);
    assert.deepEqual(images(sim), [V1, V1, V1, V2, V2, V2], 'old revision kept until scaleDownAt');
    assert.ok(sim.run((s) => images(s).join() === [V2, V2, V2].join(), 200));
  });

  it('canary: weight 20 of 5 replicas runs 1 new task beside 5 old; promote goes on to 100%', () => {
    const sim = settled(5, { strategy: 'canary', steps: [{ weight: 20 }, { pause: {} }, { weight: 100 }] });
    sim.applySpec({ image: V2 });
    assert.ok(sim.run((s) => state(s) === 'waiting-promotion'));
    assert.equal(rollout(sim)?.weight, 20);
    assert.deepEqual(images(sim), [V1, V1, V1, V1, V1, V2]);
    const r = rollout(sim);
    assert.ok(r !== undefined);
    sim.setService({ ...sim.svc, status: { ...sim.svc.status, rollout: { ...r, state: 'progressing', step: (r.step ?? 0) + 1, since: new Date(sim.nowMs).toISOString() } } });
    assert.ok(sim.run((s) => state(s) === 'complete' && s.live().length === 5));
    assert.deepEqual(images(sim), Array(5).fill(V2));
    assert.equal(sim.svc.status?.revision, 2);
  });

  it('canary with a timed pause goes on by itself; a failing canary rolls back', () => {
    const timed = settled(2, { strategy: 'canary', steps: [{ weight: 50 }, { pause: { seconds: 5 } }] });
    timed.applySpec({ image: V2 });
    assert.ok(timed.run((s) => state(s) === 'complete'));
    const bad = settled(4, { strategy: 'canary', failureAction: 'rollback', steps: [{ weight: 25 }, { pause: {} }] }, [BAD]);
    bad.applySpec({ image: BAD });
    assert.ok(bad.run((s) => state(s) === 'rolled-back' && s.live().length === 4));
    assert.deepEqual(images(bad), [V1, V1, V1, V1]);
    assert.match(rollout(bad)?.message ?? '', /rolled back: 1\/1 new tasks failed the readiness probe/);
  });
});
