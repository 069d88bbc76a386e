/**
 * The agent's decision for one task, pure and synchronous (STYLE.md 5): given the Task as the
 * server has it and the container as runc has it, what is the one next step? The supervisor
 * performs the step and asks again, until the answer is `idle`. Level-triggered: after an agent
 * restart, the same question over adopted containers gives the right answer.
 *
 *   desired running:  (none) --pull--> preparing --create--> starting --start--> running
 *                     running --exit--> complete | failed  --cleanup--> (history)
 *   desired shutdown: running --stop--> shutdown --cleanup--> (history)
 *
 * Probes (src/agent/probes/README.md) are one more input: the prober's verdict, kept in memory.
 * A running task gets a prober (`start-probes`); its verdict becomes `ready`, `readySince` and
 * `probes` in the status (`report-probe`, only when they differ: one write per transition), or
 * `failed` when startup or liveness failed for good (then the container is stopped, as for any
 * terminal task). A prober of a task that no longer runs is stopped first (`stop-probes`).
 */
import { TERMINAL_TASK_STATES, type ProbeResult, type Task, type TaskState } from '../../api/kinds.js';
import { PROBE_KINDS, sameResult, type ProbeResults, type ProbeVerdict } from '../probes/verdict.js';
import type { ContainerState, ExitInfo } from '../runtime/runtime.js';

/** What the plan knows about a task's probes. */
export interface ProbeInput {
  /** This agent runs probers (hollow nodes do not: their running tasks are ready). */
  enabled: boolean;
  /** The verdict of the task's prober; undefined while none runs. */
  verdict?: ProbeVerdict;
}

/** Without probers: running means ready. */
export const NO_PROBERS: ProbeInput = { enabled: false };

/** One step of the supervisor; each is idempotent. */
export type TaskStep =
  /** Pull the image and prepare the container (state preparing, then starting). */
  | { do: 'prepare' }
  /** Start a prepared container (state starting -> running). */
  | { do: 'start' }
  /** Write the running status (pid) the server does not have yet, e.g. after adoption. */
  | { do: 'report-running'; pid: number }
  /** Stop the running container (desired shutdown, or task no longer ours). */
  | { do: 'stop' }
  /** The container stopped but its monitor has not written the exit code yet: wait for it. */
  | { do: 'await-exit' }
  /** Record how the container ended: complete, failed (exit code, OOM) or shutdown. */
  | { do: 'report-exit'; state: TaskState; exitCode?: number; message: string }
  /** Write a terminal state: without a container (never started), or failed by a probe (with its results). */
  | { do: 'report'; state: TaskState; message: string; probes?: ProbeResults }
  /** Start the task's prober (it runs and has none). */
  | { do: 'start-probes' }
  /** Stop the task's prober (the task no longer runs, or is gone). */
  | { do: 'stop-probes' }
  /** Write what the prober concluded: readiness and the probes' last transitions. */
  | { do: 'report-probe'; ready: boolean; readySince?: string; probes?: ProbeResults }
  /** Remove the container and its root filesystem: nothing left but the logs. */
  | { do: 'cleanup' }
  /** Nothing to do until something changes. */
  | { do: 'idle' };

/** Is the task (as the server has it) already in a final state? */
export function isTerminal(task: Task): boolean {
  return task.status !== undefined && TERMINAL_TASK_STATES.has(task.status.state);
}

/** How a person reads an exit: `exited with code 3`, `OOMKilled: ... (64Mi), exit code 137` (the reason word Kubernetes uses). */
export function describeExit(exit: ExitInfo, memoryLimit?: string): string {
  if (exit.oomKilled) return `OOMKilled: the container exceeded its memory limit${memoryLimit !== undefined ? ` (${memoryLimit})` : ''}, exit code ${exit.exitCode}`;
  if (exit.message !== undefined) return exit.message;
  if (exit.signal !== undefined) return `killed by ${exit.signal} (exit code ${exit.exitCode})`;
  return `exited with code ${exit.exitCode}`;
}

/**
 * The next step for a task. `task` undefined means the task is gone from the server or is no
 * longer assigned to this node: its container must go.
 */
export function planTask(task: Task | undefined, container: ContainerState | undefined, probes: ProbeInput = NO_PROBERS): TaskStep {
  const running = container?.status === 'running' || container?.status === 'paused';
  const exited = container?.status === 'stopped' || container?.exit !== undefined;
  const live = task !== undefined && task.spec.desiredState === 'running' && !isTerminal(task) && running;
  if (probes.verdict !== undefined && !live) return { do: 'stop-probes' };
  if (task === undefined) {
    if (container === undefined) return { do: 'idle' };
    return running ? { do: 'stop' } : { do: 'cleanup' };
  }
  const state = task.status?.state ?? 'new';
  const terminal = isTerminal(task);

  if (task.spec.desiredState === 'shutdown') {
    if (running) return { do: 'stop' };
    if (!terminal) return { do: 'report', state: 'shutdown', message: 'stopped as requested' };
    return container !== undefined ? { do: 'cleanup' } : { do: 'idle' };
  }

  // desired running
  if (terminal) return container !== undefined ? (running ? { do: 'stop' } : { do: 'cleanup' }) : { do: 'idle' };
  if (container === undefined) {
    if (state === 'running') return { do: 'report', state: 'failed', message: 'the container disappeared (agent or node restarted?)' };
    return { do: 'prepare' };
  }
  if (running) {
    if (state !== 'running' || task.status?.pid !== container.pid) return { do: 'report-running', pid: container.pid ?? 0 };
    return probeStep(task, probes);
  }
  if (exited) {
    if (container.exit !== undefined) return exitStep(task, container.exit);
    return { do: 'await-exit' };
  }
  // prepared or created, not started
  return { do: 'start' };
}

/** The step for a running, reported task: start its prober, report what it concluded, or nothing. */
function probeStep(task: Task, input: ProbeInput): TaskStep {
  const status = task.status;
  if (!input.enabled) return status?.ready === true ? { do: 'idle' } : { do: 'report-probe', ready: true, readySince: status?.readySince };
  const v = input.verdict;
  if (v === undefined) return { do: 'start-probes' };
  if (v.failed !== undefined) return { do: 'report', state: 'failed', message: v.failed, probes: v.probes };
  const stored: Partial<Record<string, ProbeResult>> = status?.probes ?? {};
  const changed = PROBE_KINDS.some((k) => !sameResult(stored[k], v.probes[k]));
  if ((status?.ready === true) === v.ready && !changed) return { do: 'idle' };
  // Ready already: it stays ready since then (an adopted task, a probe written besides).
  const readySince = v.ready ? (status?.ready === true ? status.readySince ?? v.readySince : v.readySince) : undefined;
  return { do: 'report-probe', ready: v.ready, readySince, probes: v.probes };
}

function exitStep(task: Task, exit: ExitInfo): TaskStep {
  const message = describeExit(exit, task.spec.template.resources.limits.memory);
  const state: TaskState = exit.exitCode === 0 && !exit.oomKilled ? 'complete' : 'failed';
  return { do: 'report-exit', state, exitCode: exit.exitCode, message };
}
