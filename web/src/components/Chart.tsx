// Charts drawn by uPlot (a small canvas chart library), each with a text
// alternative: a one-sentence summary as the figure's accessible name
// (role="img") and the numbers in a table under "Show the numbers". Colours
// come from the CSS custom properties, so they follow dark mode.
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const HEIGHT = 220;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Bumps when the colour scheme changes, so charts are redrawn in it. */
function useSchemeTick(): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    if (!mq) return;
    const on = () => setTick((t) => t + 1);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  return tick;
}

/** Draws `make(width)` into a box that follows its container's width. */
function useUplot(make: (width: number) => uPlot.Options, data: uPlot.AlignedData, deps: readonly unknown[]) {
  const box = useRef<HTMLDivElement>(null);
  const scheme = useSchemeTick();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth);
    const plot = new uPlot(make(width), data, el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, scheme]);
  return box;
}

function axis(format?: (v: number) => string): uPlot.Axis {
  return {
    stroke: cssVar("--muted"),
    grid: { stroke: cssVar("--chart-grid"), width: 1 },
    ticks: { stroke: cssVar("--chart-grid"), width: 1 },
    ...(format ? { values: (_u: uPlot, splits: number[]) => splits.map(format) } : {}),
  };
}

interface FigureProps {
  title: string;
  summary: string;
  testId: string;
  table: ReactNode;
  children: ReactNode;
}

function Figure({ title, summary, testId, table, children }: FigureProps) {
  const id = useId();
  return (
    <figure className="chart" data-testid={testId} aria-labelledby={`${id}-t`}>
      <figcaption id={`${id}-t`} className="chart-title">
        {title}
      </figcaption>
      <div className="chart-canvas" role="img" aria-label={summary}>
        {children}
      </div>
      <details className="chart-data">
        <summary>Show the numbers</summary>
        {table}
      </details>
    </figure>
  );
}

export interface LineSeries {
  name: string;
  /** y values, aligned with `x` (null: no value there) */
  values: (number | null)[];
}

/** Lines over time: `x` in seconds since the epoch. */
export function LineChart({
  title,
  summary,
  testId,
  x,
  series,
  format,
  table,
}: {
  title: string;
  summary: string;
  testId: string;
  x: number[];
  series: LineSeries[];
  format: (v: number) => string;
  table: ReactNode;
}) {
  const colours = ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5", "--chart-6"];
  const key = JSON.stringify([x, series]);
  const box = useUplot(
    (width) => ({
      width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis(), { ...axis(format), size: 80 }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name,
          stroke: cssVar(colours[i % colours.length] ?? "--chart-1"),
          width: 2,
          points: { show: true, size: 6 },
          paths: uPlot.paths.stepped?.({ align: 1 }),
        })),
      ],
    }),
    [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
    [key],
  );
  return (
    <Figure title={title} summary={summary} testId={testId} table={table}>
      <div ref={box} />
      {series.length > 1 && (
        <ul className="chart-legend" aria-hidden="true">
          {series.map((s, i) => (
            <li key={s.name} className={`chart-key chart-key-${(i % colours.length) + 1}`}>
              {s.name}
            </li>
          ))}
        </ul>
      )}
    </Figure>
  );
}

/** One bar per label (counts by status). */
export function BarChart({ title, summary, testId, bars }: { title: string; summary: string; testId: string; bars: { label: string; value: number }[] }) {
  const labels = bars.map((b) => b.label);
  const key = JSON.stringify(bars);
  const box = useUplot(
    (width) => ({
      width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, Math.max(0, bars.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { ...axis((v) => labels[v] ?? ""), splits: () => labels.map((_, i) => i), grid: { show: false } },
        { ...axis((v) => (Number.isInteger(v) ? String(v) : "")), size: 48 },
      ],
      series: [
        {},
        {
          label: title,
          fill: cssVar("--chart-1"),
          stroke: cssVar("--chart-1"),
          paths: uPlot.paths.bars?.({ size: [0.6, 64] }),
          points: { show: false },
        },
      ],
    }),
    [labels.map((_, i) => i), bars.map((b) => b.value)],
    [key],
  );
  return (
    <Figure
      title={title}
      summary={summary}
      testId={testId}
      table={
        <table className="table chart-table">
          <caption className="sr-only">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Count
              </th>
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td className="num">{b.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      <div ref={box} />
    </Figure>
  );
}
