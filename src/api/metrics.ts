/**
 * What agents report about resource use and what the API answers about it (`flotilla top`,
 * the autoscaler, /metrics). Counters are cumulative (the kernel's), so a lost report loses no
 * information: the server turns two consecutive samples into rates.
 *
 *   agent (every 10 s) ──POST /api/v1/nodes/NAME/metrics {MetricsReport}──► server rings
 *   GET /api/v1/metrics/nodes | /tasks?namespace=&service= | /services?namespace= ──► *Usage[]
 */

/** The node as a whole, sampled by its agent. */
export interface NodeSample {
  /** Cumulative CPU time of all cores, busy and total (USER_HZ ticks converted to ns). */
  cpuBusyNs: number;
  cpuTotalNs: number;
  cores: number;
  memoryTotalBytes: number;
  /** MemAvailable: what can be given to new work without swapping. */
  memoryAvailableBytes: number;
  /** Filesystem of the agent's data dir. */
  diskTotalBytes: number;
  diskFreeBytes: number;
  /** Every interface of the node's network namespace but lo. */
  netRxBytes: number;
  netTxBytes: number;
}

/** One task's cgroup (and network namespace), sampled by its agent. */
export interface TaskSample {
  task: string;
  namespace: string;
  service: string;
  cpuUsageNs: number;
  /** CFS throttling: periods throttled and time throttled. */
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  /** CFS quota / period, when the cgroup has a CPU limit. */
  cpuLimitCores?: number;
  /** Working set: usage minus inactive file cache (what the OOM killer looks at). */
  memoryBytes: number;
  memoryLimitBytes?: number;
  oomKills: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}

/** One report: a node and its running tasks at one instant. */
export interface MetricsReport {
  /** RFC 3339, the agent's clock (the server keeps its own receive time too). */
  time: string;
  /** The agent's sampling interval. */
  intervalMs: number;
  node: NodeSample;
  tasks: TaskSample[];
}

/** A node's usage now (the last two samples). */
export interface NodeUsage {
  node: string;
  time: string;
  /** Cores in use (rate of busy CPU time). */
  cpuCores: number;
  cores: number;
  cpuPercent: number;
  memoryBytes: number;
  memoryTotalBytes: number;
  memoryPercent: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
  netRxBytesPerSecond: number;
  netTxBytesPerSecond: number;
}

/** A task's usage now. */
export interface TaskUsage {
  task: string;
  namespace: string;
  service: string;
  node: string;
  time: string;
  cpuCores: number;
  /** Share of its CPU limit, when it has one (0..100+). */
  cpuLimitPercent?: number;
  /** Periods throttled per second. */
  cpuThrottledPerSecond: number;
  memoryBytes: number;
  memoryLimitBytes?: number;
  oomKills: number;
  pids: number;
  netRxBytesPerSecond: number;
  netTxBytesPerSecond: number;
  blockReadBytesPerSecond: number;
  blockWriteBytesPerSecond: number;
}

/** A service's usage: its tasks' figures summed, averaged and maxed. */
export interface ServiceUsage {
  service: string;
  namespace: string;
  tasks: number;
  cpuCoresSum: number;
  cpuCoresAvg: number;
  cpuCoresMax: number;
  memoryBytesSum: number;
  memoryBytesAvg: number;
  memoryBytesMax: number;
}

/** One point of a series (charts, the autoscaler's window). */
export interface UsagePoint {
  time: string;
  cpuCores: number;
  memoryBytes: number;
}
