// Time-series charts drawn as SVG: lines for gauges, bars for counters. A null
// value is a gap (no video in that period): lines break there and the period is
// shaded, so a gap never reads as zero.

import { svg } from "./dom";
import { formatDateTime, formatNumber } from "./format";

const WIDTH = 860;
const HEIGHT = 230;
const MARGIN = { top: 12, right: 16, bottom: 34, left: 48 };
const Y_TICK_COUNT = 4;
const X_TICK_COUNT = 6;

export interface Series {
  name: string;
  /** One value per period, or null for a gap. */
  values: ReadonlyArray<number | null>;
  style: "line" | "dashed" | "bar";
  /** CSS class that sets the colour (see app.css). */
  className: string;
}

export interface ChartData {
  title: string;
  testId: string;
  /** Start of each period. */
  starts: ReadonlyArray<Date>;
  /** Length of one period in milliseconds. */
  periodMs: number;
  /** Periods without video. */
  gaps: ReadonlyArray<boolean>;
  series: ReadonlyArray<Series>;
  /** IANA time zone for the axis labels, the store's. */
  timeZone: string;
  /** Unit of the y axis, e.g. "people". */
  unit: string;
}

/** Return a round step for an axis from 0 to `max` with about `count` ticks. */
export function niceStep(max: number, count: number): number {
  if (max <= 0) {
    return 1;
  }
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (factor * magnitude >= raw) {
      return factor * magnitude;
    }
  }
  return 10 * magnitude;
}

/** Split values into runs of consecutive non-null indexes, for broken lines. */
export function runsOf(values: ReadonlyArray<number | null>): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (current.length > 0) {
        runs.push(current);
      }
      current = [];
      return;
    }
    current.push(index);
  });
  if (current.length > 0) {
    runs.push(current);
  }
  return runs;
}

function axisLabel(date: Date, timeZone: string, spanMs: number): string {
  const text = formatDateTime(date, timeZone);
  // Within two days the time of day is enough, and beyond that the date matters more.
  return spanMs <= 2 * 86_400_000 ? text.slice(11, 16) : text.slice(5, 16);
}

export function renderChart(data: ChartData): SVGSVGElement {
  const count = data.starts.length;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = count > 0 ? plotWidth / count : plotWidth;

  let max = 0;
  for (const series of data.series) {
    for (const value of series.values) {
      if (value !== null && value > max) {
        max = value;
      }
    }
  }
  const step = niceStep(max, Y_TICK_COUNT);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const x = (index: number) => MARGIN.left + slot * index + slot / 2;
  const y = (value: number) => MARGIN.top + plotHeight * (1 - value / top);

  const gapCount = data.gaps.filter(Boolean).length;
  const root = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": `${data.title} in ${data.unit}: ${count} periods, ${gapCount} without video`,
    "data-testid": data.testId,
    "data-points": count,
    "data-gaps": gapCount,
  });

  data.gaps.forEach((gap, index) => {
    if (!gap) {
      return;
    }
    root.append(
      svg(
        "rect",
        {
          class: "chart-gap",
          x: MARGIN.left + slot * index,
          y: MARGIN.top,
          width: Math.max(slot, 1),
          height: plotHeight,
        },
        svg("title", {}, `${formatDateTime(data.starts[index], data.timeZone)}: no video`),
      ),
    );
  });

  for (let tick = 0; tick <= top + step / 2; tick += step) {
    root.append(
      svg("line", {
        class: "chart-grid",
        x1: MARGIN.left,
        x2: WIDTH - MARGIN.right,
        y1: y(tick),
        y2: y(tick),
      }),
      svg(
        "text",
        { class: "chart-axis", x: MARGIN.left - 6, y: y(tick) + 4, "text-anchor": "end" },
        formatNumber(tick, 2),
      ),
    );
  }

  const spanMs = count * data.periodMs;
  const labelEvery = Math.max(1, Math.ceil(count / X_TICK_COUNT));
  for (let index = 0; index < count; index += labelEvery) {
    root.append(
      svg(
        "text",
        { class: "chart-axis", x: x(index), y: HEIGHT - 12, "text-anchor": "middle" },
        axisLabel(data.starts[index], data.timeZone, spanMs),
      ),
    );
  }

  const bars = data.series.filter((series) => series.style === "bar");
  const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, bars.length));
  bars.forEach((series, barIndex) => {
    series.values.forEach((value, index) => {
      if (value === null || value === 0) {
        return;
      }
      const left = MARGIN.left + slot * index + slot * 0.1 + barWidth * barIndex;
      root.append(
        svg(
          "rect",
          {
            class: `chart-bar ${series.className}`,
            x: left,
            y: y(value),
            width: barWidth,
            height: y(0) - y(value),
          },
          svg("title", {}, `${series.name} ${formatNumber(value)}`),
        ),
      );
    });
  });

  for (const series of data.series) {
    if (series.style === "bar") {
      continue;
    }
    for (const run of runsOf(series.values)) {
      const path = run
        .map((index, i) => `${i === 0 ? "M" : "L"}${x(index)},${y(series.values[index]!)}`)
        .join(" ");
      // A single point between gaps has no segment to draw, so it gets a dot.
      const shape =
        run.length === 1
          ? svg("circle", { cx: x(run[0]), cy: y(series.values[run[0]]!), r: 2.5 })
          : svg("path", { d: path });
      shape.setAttribute(
        "class",
        `chart-line ${series.style === "dashed" ? "chart-dashed" : ""} ${series.className}`,
      );
      root.append(shape);
    }
  }

  root.append(
    svg("line", {
      class: "chart-axis-line",
      x1: MARGIN.left,
      x2: WIDTH - MARGIN.right,
      y1: y(0),
      y2: y(0),
    }),
  );
  return root;
}
