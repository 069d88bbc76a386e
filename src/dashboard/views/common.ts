/**
 * Small pieces every page uses: the render hook of the live data, a poller for figures that
 * are not in the store, usage bars, state badges and the error note (a 403 is shown where it
 * happened, with the server's message).
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { VNode } from 'preact';
import { ApiError } from '../api.js';
import type { ClusterData } from '../cluster.js';
import { barPercent, formatPercent } from '../format.js';
import { sleep } from '../live.js';

/** Re-renders the calling component after every change of the cluster data. */
export function useCluster(cluster: ClusterData): void {
  const [, setTick] = useState(0);
  useEffect(() => cluster.subscribe(() => setTick((t) => t + 1)), [cluster]);
}

/** A value fetched now and every `everyMs` while mounted (figures the watch API does not carry). */
export function usePoll<T>(fetcher: (signal: AbortSignal) => Promise<T>, everyMs: number, deps: unknown[]): { data?: T; error?: ApiError } {
  const [state, setState] = useState<{ data?: T; error?: ApiError }>({});
  useEffect(() => {
    const abort = new AbortController();
    setState({});
    void (async () => {
      while (!abort.signal.aborted) {
        let wait = everyMs;
        try {
          const data = await fetcher(abort.signal);
          if (!abort.signal.aborted) setState({ data });
        } catch (err) {
          if (abort.signal.aborted) return;
          const e = err instanceof ApiError ? err : new ApiError(0, 'Error', (err as Error).message);
          setState((s) => ({ ...s, error: e }));
          // A dropped connection is worth a quick second try; a refusal is not.
          if (e.retryable) wait = Math.min(everyMs, 2_000);
        }
        await sleep(wait, abort.signal);
      }
    })();
    return () => abort.abort();
  }, deps);
  return state;
}

/** A horizontal bar of a percentage with its label. */
export function Bar(props: { percent?: number; label?: string; title?: string }): VNode {
  const p = barPercent(props.percent);
  const level = p >= 90 ? 'high' : p >= 70 ? 'mid' : 'low';
  return html`<div class="bar" title=${props.title ?? ''}>
    <div class="bar-fill ${level}" style=${`width: ${p.toFixed(1)}%`}></div>
    <span class="bar-label">${props.label ?? formatPercent(props.percent)}</span>
  </div>`;
}

/** A task, node or rollout state as a coloured word. */
export function StateBadge(props: { state: string }): VNode {
  return html`<span class="badge state-${props.state}">${props.state}</span>`;
}

/** Why a part of the page is empty: 403 (RBAC), or another error. */
export function ErrorNote(props: { error?: ApiError; what: string }): VNode | null {
  const e = props.error;
  if (e === undefined) return null;
  const head = e.forbidden ? `${props.what}: forbidden (403)` : e.status === 0 ? `${props.what}: cannot reach the server` : `${props.what}: error ${e.status}`;
  return html`<p class="error-note" data-status=${e.status}><strong>${head}</strong> ${e.message}</p>`;
}

/** `#/services/NS/NAME`, `#/nodes/NAME`. */
export function serviceHref(namespace: string, name: string): string {
  return `#/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

export function nodeHref(name: string): string {
  return `#/nodes/${encodeURIComponent(name)}`;
}
