/**
 * A time series chart with uPlot: CPU (cores) or memory (bytes) points of the server's metrics
 * ring over the last hour. The container carries `data-points` (how many points it draws).
 */
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import type { VNode } from 'preact';
import uPlot from 'uplot';

/** One series: x in seconds since the epoch. */
export interface ChartData {
  times: number[];
  values: number[];
}

/** See the file comment. */
export function Chart(props: { title: string; data: ChartData; format: (v: number) => string; color: string }): VNode {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { data, format } = props;

  useEffect(() => {
    const el = box.current;
    if (el === null) return undefined;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth || 500),
      height: 180,
      legend: { show: false },
      scales: { x: { time: true } },
      series: [{}, { label: props.title, stroke: props.color, width: 2, fill: `${props.color}22`, points: { show: true, size: 4 } }],
      axes: [{ stroke: '#666' }, { stroke: '#666', size: 70, values: (_u, vals) => vals.map((v) => format(v)) }],
    };
    const u = new uPlot(opts, [data.times, data.values], el);
    plot.current = u;
    const onResize = (): void => u.setSize({ width: Math.max(300, el.clientWidth || 500), height: 180 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      u.destroy();
      plot.current = null;
    };
    // The chart is made once; data changes go through setData below.
  }, []);

  useEffect(() => {
    plot.current?.setData([data.times, data.values]);
  }, [data]);

  return html`<figure class="chart" data-chart=${props.title} data-points=${data.times.length}>
    <figcaption>${props.title}${data.times.length === 0 ? html` <span class="muted">(no points yet)</span>` : null}</figcaption>
    <div ref=${box}></div>
  </figure>`;
}
