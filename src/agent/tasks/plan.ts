/**
 * The agent's decision for one task, pure and synchronous (STYLE.md 5): given the Task as the
 * server has it and the container as runc has it, what is the one next step? The supervisor
 * performs the step and asks again, until the answer is `idle`. Level-triggered: after an agent
 * restart, the same question over adopted containers gives the right answer.
 *
 *   desired running:  (none) --pull--> preparing --create--> starting --start--> running
 *                     running --exit--> complete | failed  --cleanup--> (history)
 *   desired shutdown: running --stop--> shutdown --cleanup--> (history)
 */
import { TERMINAL_TASK_STATES, type Task, type TaskState } from '../../api/kinds.js';
import type { ContainerState, ExitInfo } from '../runtime/runtime.js';

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
  /** Write a terminal state without a container (never started). */
  | { do: 'report'; state: TaskState; message: string }
  /** Remove the container and its root filesystem: nothing left but the logs. */
  | { do: 'cleanup' }
  /** Nothing to do until something changes. */
  | { do: 'idle' };

/** Is the task (as the server has it) already in a final state? */
export function isTerminal(task: Task): boolean {
  return task.status !== undefined && TERMINAL_TASK_STATES.has(task.status.state);
}

/** How a person reads an exit: `exited with code 3`, `OOM-killed (memory limit 64Mi)`. */
export function describeExit(exit: ExitInfo, memoryLimit?: string): string {
  if (exit.oomKilled) return `OOM-killed: the container exceeded its memory limit${memoryLimit !== undefined ? ` (${memoryLimit})` : ''}`;
  if (exit.message !== undefined) return exit.message;
  if (exit.signal !== undefined) return `killed by ${exit.signal} (exit code ${exit.exitCode})`;
  return `exited with code ${exit.exitCode}`;
}

/**
 * The next step for a task. `task` undefined means the task is gone from the server or is no
 * longer assigned to this node: its container must go.
 */
export function planTask(task: Task | undefined, container: ContainerState | undefined): TaskStep {
  const running = container?.status === 'running' || container?.status === 'paused';
  const exited = container?.status === 'stopped' || container?.exit !== undefined;
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
    return { do: 'idle' };
  }
  if (exited) {
    if (container.exit !== undefined) return exitStep(task, container.exit);
    return { do: 'await-exit' };
  }
  // prepared or created, not started
  return { do: 'start' };
}

function exitStep(task: Task, exit: ExitInfo): TaskStep {
  const message = describeExit(exit, task.spec.template.resources.limits.memory);
  const state: TaskState = exit.exitCode === 0 && !exit.oomKilled ? 'complete' : 'failed';
  return { do: 'report-exit', state, exitCode: exit.exitCode, message };
}
