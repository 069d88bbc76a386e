/**
 * Imported into the benchmarks' child processes (`node --import tsx --import bench/loop-lag.ts`):
 * every 5 s, one stderr line with the event loop's delay over those 5 s (p99 and max, ms), so
 * a benchmark can tell a busy process (late timers: late heartbeats) from a slow one.
 *
 *   loop-lag: p99=12 max=340
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 20 });
h.enable();
const timer = setInterval(() => {
  process.stderr.write(`loop-lag: p99=${Math.round(h.percentile(99) / 1e6)} max=${Math.round(h.max / 1e6)}\n`);
  h.reset();
}, 5_000);
timer.unref();
