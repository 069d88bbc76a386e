/**
 * Pull progress: bytes done and total per layer, summed, with a one-line message a task can
 * put in its status ("pulling 127.0.0.1:5000/demo/app:1: 2/3 layers, 1.2 MB of 4.0 MB").
 * Updates are throttled; state changes always go through.
 */

/** State of one layer in a pull. */
export interface LayerProgress {
  digest: string;
  doneBytes: number;
  totalBytes: number;
  state: 'waiting' | 'downloading' | 'unpacking' | 'done';
}

/** One progress event of a pull. */
export interface PullProgress {
  reference: string;
  layers: LayerProgress[];
  doneBytes: number;
  totalBytes: number;
  message: string;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Collects per-layer byte counts and calls `emit` at most every `intervalMs`. */
export class ProgressTracker {
  private readonly layers: LayerProgress[];
  private lastEmitMs = 0;

  constructor(
    private readonly reference: string,
    layers: { digest: string; size: number }[],
    private readonly emit: ((p: PullProgress) => void) | undefined,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.layers = layers.map((l) => ({ digest: l.digest, doneBytes: 0, totalBytes: l.size, state: 'waiting' }));
  }

  /** Bytes of layer `i` downloaded so far. */
  bytes(i: number, done: number): void {
    const l = this.layers[i];
    if (l === undefined) return;
    const changed = l.state === 'waiting';
    l.doneBytes = done;
    l.state = done >= l.totalBytes ? 'unpacking' : 'downloading';
    this.maybeEmit(changed || l.state === 'unpacking');
  }

  /** Layer `i` is unpacked (or was already there). */
  done(i: number): void {
    const l = this.layers[i];
    if (l === undefined) return;
    l.doneBytes = l.totalBytes;
    l.state = 'done';
    this.maybeEmit(true);
  }

  /** The current snapshot. */
  snapshot(): PullProgress {
    const doneBytes = this.layers.reduce((s, l) => s + l.doneBytes, 0);
    const totalBytes = this.layers.reduce((s, l) => s + l.totalBytes, 0);
    const doneLayers = this.layers.filter((l) => l.state === 'done').length;
    const message = `pulling ${this.reference}: ${doneLayers}/${this.layers.length} layers, ${mb(doneBytes)} of ${mb(totalBytes)}`;
    return { reference: this.reference, layers: this.layers.map((l) => ({ ...l })), doneBytes, totalBytes, message };
  }

  private maybeEmit(force: boolean): void {
    if (this.emit === undefined) return;
    const t = this.now();
    if (!force && t - this.lastEmitMs < this.intervalMs) return;
    this.lastEmitMs = t;
    this.emit(this.snapshot());
  }
}
