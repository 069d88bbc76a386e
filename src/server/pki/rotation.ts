/**
 * `flotilla ca rotate`, the loop that carries it out (on the leader only; the state lives in the
 * store, so a new leader or a restarted server picks it up where it was). Level-triggered: every
 * tick re-reads the stored state and does the next step of its phase (pki/bundle.ts):
 *
 *   renewing  (ready nodes without an agent endpoint, e.g. hollow nodes: skipped at once)
 *             each ready node not yet renewed: agent POST /certificate/renew -> its new cert
 *             must be signed by the new CA -> renewed += node (written after each round)
 *             all ready nodes renewed, or the deadline passed (the rest: skipped) -> retiring
 *   retiring  (every server now serves with the new CA, trusts only it)
 *             each ready node renews once more, to receive the bundle without the old CA
 *             all done, or the deadline passed -> idle (rotation removed)
 *
 * This server acts only once it has adopted the stored state itself (its dialer must already
 * show the serving CA of the phase).
 */
import { X509Certificate } from 'node:crypto';
import { BadRequestError, ConflictError } from '../../api/errors.js';
import type { NodeObject } from '../../api/kinds.js';
import { disposable, type Disposable } from '../../lifecycle.js';
import type { Store } from '../../store/store.js';
import type { Keyring } from '../secrets/codec.js';
import type { AgentDialer, AgentTarget } from '../proxy/agent-dialer.js';
import { bundleOf, finishRotation, pemFingerprint, retireOldCa, startRotation, type CaState } from './bundle.js';
import { readCaState, writeCaState } from './ca-store.js';
import { createCa, type ClusterPki } from './index.js';
import { renewNodeCertificate } from './node-renew.js';

/** What the rotation loop needs. */
export interface CaRotationEnv {
  store: Store;
  ring: Keyring;
  pki: ClusterPki;
  dialer: AgentDialer;
  log: (line: string) => void;
  /** Pause between steps (default 1000 ms). */
  tickMs?: number;
}

/** Default time `renewing` waits for every ready node. */
export const DEFAULT_ROTATION_DEADLINE_MS = 10 * 60_000;

/** Starts a rotation: a new CA in the stored state (phase renewing); ConflictError while one runs. */
export async function beginCaRotation(env: { store: Store; ring: Keyring }, deadlineMs = DEFAULT_ROTATION_DEADLINE_MS): Promise<CaState> {
  if (!(deadlineMs >= 1_000 && deadlineMs <= 7 * 24 * 3600_000)) throw new BadRequestError('deadlineSeconds: expected 1 to 604800');
  const stored = await readCaState(env.store, env.ring);
  if (stored === undefined) throw new ConflictError('no cluster CA is stored yet (the server has not finished starting)');
  if (stored.state.rotation !== undefined) throw new ConflictError(`a CA rotation is already under way (phase ${stored.state.rotation.phase}, started ${stored.state.rotation.startedAt})`);
  const now = new Date();
  const next = startRotation(stored.state, await createCa(`flotilla cluster CA ${now.toISOString()}`), now, deadlineMs);
  await writeCaState(env.store, env.ring, next, stored.revision);
  return next;
}

/** Ready nodes: those with an agent endpoint, and the names of those without (hollow nodes). */
async function readyNodes(store: Store): Promise<{ targets: AgentTarget[]; unreachable: string[] }> {
  const nodes = ((await store.list('Node', {})).items as NodeObject[]).filter((n) => n.status?.state === 'ready');
  const targets: AgentTarget[] = [];
  const unreachable: string[] = [];
  for (const n of nodes) {
    const { address, agentPort } = n.status ?? {};
    if (address !== undefined && address !== '' && agentPort !== undefined && agentPort > 0) targets.push({ node: n.metadata.name, address, port: agentPort });
    else unreachable.push(n.metadata.name);
  }
  return { targets, unreachable };
}

/** One step of the phase; returns the state to write (or undefined: nothing changed). */
async function step(env: CaRotationEnv, s: CaState): Promise<CaState | undefined> {
  const r = s.rotation;
  if (r === undefined) return undefined;
  const { targets, unreachable } = await readyNodes(env.store);
  // Nodes without an agent endpoint (hollow nodes) cannot renew on demand: skipped at once.
  const skippedNow = unreachable.filter((n) => !r.skipped.includes(n));
  const ready = targets.map((t) => t.node);
  const renewed = [...r.renewed];
  let message: string | undefined;
  for (const target of targets.filter((t) => !r.renewed.includes(t.node))) {
    const name = target.node;
    try {
      const pem = await renewNodeCertificate(env.dialer, target);
      const issuer = env.pki.issuerOf(new X509Certificate(pem));
      if (issuer !== r.to) throw new Error(`its new certificate is signed by ${issuer?.slice(0, 16) ?? 'an unknown CA'}, not the new CA`);
      renewed.push(name);
      env.log(`ca rotate (${r.phase}): node ${name} renewed`);
    } catch (err) {
      message = `node ${name}: ${(err as Error).message}`;
      env.log(`ca rotate (${r.phase}): ${message} (retrying)`);
    }
  }
  const left = ready.filter((n) => !renewed.includes(n));
  const late = Date.now() > Date.parse(r.deadline);
  const skipped = [...r.skipped, ...skippedNow];
  const updated: CaState = { ...s, rotation: { ...r, renewed, message, skipped } };
  if (left.length > 0 && !late) return renewed.length !== r.renewed.length || message !== r.message || skippedNow.length > 0 ? updated : undefined;
  if (r.phase === 'renewing') {
    if (left.length > 0) env.log(`ca rotate: deadline passed; nodes ${left.join(', ')} did not renew and must join again`);
    return retireOldCa({ ...s, rotation: { ...r, renewed, message, skipped: [...new Set([...skipped, ...left])] } });
  }
  env.log(`ca rotate: done; the cluster CA is ${s.signer.slice(0, 16)}, CA ${r.from.slice(0, 16)} is retired`);
  return finishRotation(updated);
}

/** The leader loop; see the file comment. */
export function startCaRotation(env: CaRotationEnv): Disposable {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    const stored = await readCaState(env.store, env.ring);
    if (stored?.state.rotation === undefined) return;
    // Act only on a state this server already serves with.
    if (JSON.stringify(env.pki.caState()) !== JSON.stringify(stored.state)) return;
    const next = await step(env, stored.state);
    if (next === undefined || stopped) return;
    try {
      await writeCaState(env.store, env.ring, next, stored.revision);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().catch((err: unknown) => env.log(`ca rotate: ${(err as Error).message}`)).finally(schedule);
    }, env.tickMs ?? 1_000);
    timer.unref();
  };
  schedule();
  return disposable(async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    await running;
  });
}

/** What `GET /api/v1/ca` answers: fingerprints and phases, never a key. */
export function caStatusOf(s: CaState): Record<string, unknown> {
  return {
    trusted: s.cas.map((c) => ({ fingerprint: pemFingerprint(c.certPem), subject: new X509Certificate(c.certPem).subject.replace(/\n/g, ', '), notAfter: new Date(new X509Certificate(c.certPem).validTo).toISOString() })),
    signer: s.signer,
    serving: s.serving,
    retired: s.retired,
    bundle: bundleOf(s),
    ...(s.rotation !== undefined ? { rotation: s.rotation } : {}),
  };
}
