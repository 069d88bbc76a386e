/**
 * Health probes of the agent's tasks (src/agent/probes/README.md): the factory the
 * TaskSupervisor calls when a task runs, wiring one TaskProber to the task's address, the
 * runtime's exec, the clock and the Event recorder.
 */
import type { Task } from '../../api/kinds.js';
import { systemClock, type Clock } from '../../controllers/framework/clock.js';
import type { Disposable } from '../../lifecycle.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { checkerFor, type ProbeChecker } from './checks.js';
import { probeEventOf, type ProbeEventRecorder } from './events.js';
import { TaskProber } from './prober.js';
import type { ProbeVerdict } from './verdict.js';

export { ProbeEventRecorder } from './events.js';
export type { ProbeVerdict } from './verdict.js';

/** A prober as the supervisor holds it. */
export interface RunningProber extends Disposable {
  /** The latest verdict, kept in memory (planTask's input). */
  verdict(): ProbeVerdict;
}

/** Starts probers for running tasks; a supervisor without one (hollow nodes) treats running tasks as ready. */
export interface ProberFactory {
  /** Starts probing `task` (running, in container `containerId`); `onChange` is called on every transition. */
  start(task: Task, containerId: string, onChange: () => void): RunningProber;
}

/** How the real prober factory is wired. */
export interface ProberFactoryOptions {
  runtime: Pick<ContainerRuntime, 'exec'>;
  events?: Pick<ProbeEventRecorder, 'record'>;
  clock?: Clock;
  log?: (line: string) => void;
  /** Replaces the HTTP/TCP/exec checks (tests). */
  checker?: (task: Task, containerId: string) => ProbeChecker;
}

/** The factory of TaskProbers over the real checks. */
export function newProberFactory(o: ProberFactoryOptions): ProberFactory {
  return {
    start(task: Task, containerId: string, onChange: () => void): RunningProber {
      const name = `${task.metadata.namespace}/${task.metadata.name}`;
      const prober = new TaskProber({
        probes: task.spec.template.probes,
        status: task.status,
        checker: o.checker?.(task, containerId) ?? checkerFor({ ip: task.status?.ip, containerId, exec: (id, cmd, opts) => o.runtime.exec(id, cmd, opts) }),
        clock: o.clock ?? systemClock,
        onChange,
        onTransition: (t) => {
          const e = probeEventOf(t.kind, t.result);
          o.log?.(`task ${name}: ${t.kind} probe ${t.result.result}: ${t.result.message}`);
          if (e !== undefined) o.events?.record(task, e);
        },
        log: (l) => o.log?.(`task ${name}: ${l}`),
      });
      prober.start();
      return prober;
    },
  };
}
