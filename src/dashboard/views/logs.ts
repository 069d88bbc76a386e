/**
 * Logs that follow: `GET /api/v1/services/NAME/logs?follow=1&tail=N` as JSON-line frames
 * (src/api/frames.ts), the last MAX_LINES kept. When the stream ends or breaks it reconnects
 * with backoff and drops the lines it already shows (same task, time and text).
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { VNode } from 'preact';
import { ApiError, type Api } from '../api.js';
import { formatClock } from '../format.js';
import { readLines } from '../lines.js';
import { sleep } from '../live.js';
import { ErrorNote } from './common.js';

const MAX_LINES = 500;
const TAIL = 100;

interface Line {
  key: string;
  task: string;
  stream: string;
  time: string;
  text: string;
}

/** See the file comment. */
export function Logs(props: { api: Api; namespace: string; service: string }): VNode {
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [following, setFollowing] = useState(false);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    const seen = new Set<string>();
    let buffer: Line[] = [];
    setLines([]);
    const path = `/api/v1/services/${encodeURIComponent(props.service)}/logs?namespace=${encodeURIComponent(props.namespace)}&follow=1&tail=${TAIL}`;
    void (async () => {
      let backoff = 1_000;
      while (!abort.signal.aborted) {
        try {
          const res = await props.api.stream(path, abort.signal);
          setFollowing(true);
          setError(undefined);
          backoff = 1_000;
          await readLines(res.body as ReadableStream<Uint8Array>, (raw) => {
            const f = JSON.parse(raw) as { task?: string; stream?: string; line?: string; time?: string; error?: { message?: string } };
            if (f.error !== undefined) {
              setError(new ApiError(503, 'LogStream', `${f.task ?? 'task'}: ${f.error.message ?? 'log stream failed'}`));
              return;
            }
            const l = { task: f.task ?? '', stream: f.stream ?? 'stdout', time: f.time ?? '', text: f.line ?? '' };
            const key = `${l.task}\u0000${l.time}\u0000${l.text}`;
            if (seen.has(key)) return;
            seen.add(key);
            buffer = [...buffer, { ...l, key }].slice(-MAX_LINES);
            setLines(buffer);
          }, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) return;
          const e = err instanceof ApiError ? err : new ApiError(0, 'StreamError', (err as Error).message);
          setError(e);
          if (e.unauthorized || e.forbidden) backoff = 30_000;
        }
        setFollowing(false);
        await sleep(backoff, abort.signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    })();
    return () => abort.abort();
  }, [props.api, props.namespace, props.service]);

  useEffect(() => {
    const el = box.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return html`<section class="logs">
    <h3>Logs <span class="muted">${following ? 'following' : 'reconnecting'}</span></h3>
    <${ErrorNote} error=${error} what="logs" />
    <pre ref=${box} class="log-lines" data-lines=${lines.length}>${lines.length === 0 ? html`<span class="muted">no lines yet</span>` : lines.map((l) => html`<div key=${l.key} class=${`log-${l.stream}`}><span class="muted">${formatClock(l.time)} [${l.task}]</span> ${l.text}</div>`)}</pre>
  </section>`;
}
