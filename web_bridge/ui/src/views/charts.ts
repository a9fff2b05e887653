// Charts of people in view, queue length and entries/exits for a store or one of
// its cameras over a chosen range, from MetricsService.QueryTimeSeries.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { describeError } from "../api";
import { renderChart, type Series } from "../chart";
import { el, labelled, replaceChildren, select } from "../dom";
import { dateOf, dateToZonedInput, zonedInputToDate } from "../format";
import { type Camera, ListCamerasRequestSchema } from "../gen/dalevision/ops/v1/camera_pb";
import {
  Granularity,
  QueryTimeSeriesRequestSchema,
  type QueryTimeSeriesResponse,
} from "../gen/dalevision/ops/v1/metrics_pb";
import { ListStoresRequestSchema, type Store } from "../gen/dalevision/ops/v1/store_pb";
import { Notice } from "../notice";
import { repeat, type AppContext, type View } from "./view";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
// Relative ranges are queried again this often, so new minutes appear.
const LIVE_REFRESH_MS = 30_000;

// Most points the server returns for one query, per granularity.
const MAX_POINTS: Record<number, number> = {
  [Granularity.MINUTE]: 2_880,
  [Granularity.HOUR]: 2_232,
  [Granularity.DAY]: 732,
};
const PERIOD_MS: Record<number, number> = {
  [Granularity.MINUTE]: MINUTE_MS,
  [Granularity.HOUR]: HOUR_MS,
  [Granularity.DAY]: DAY_MS,
};

const RANGES: ReadonlyArray<readonly [string, string]> = [
  ["15m", "Last 15 minutes"],
  ["1h", "Last hour"],
  ["3h", "Last 3 hours"],
  ["12h", "Last 12 hours"],
  ["24h", "Last 24 hours"],
  ["48h", "Last 48 hours"],
  ["7d", "Last 7 days"],
  ["custom", "Custom range"],
];
const RANGE_MS: Record<string, number> = {
  "15m": 15 * MINUTE_MS,
  "1h": HOUR_MS,
  "3h": 3 * HOUR_MS,
  "12h": 12 * HOUR_MS,
  "24h": DAY_MS,
  "48h": 2 * DAY_MS,
  "7d": 7 * DAY_MS,
};
const GRANULARITIES: ReadonlyArray<readonly [string, string]> = [
  [String(Granularity.MINUTE), "Per minute"],
  [String(Granularity.HOUR), "Per hour"],
  [String(Granularity.DAY), "Per day"],
];

function floorTo(time: number, periodMs: number): number {
  return Math.floor(time / periodMs) * periodMs;
}

interface Range {
  start: Date;
  end: Date;
}

function chartSeries(response: QueryTimeSeriesResponse) {
  const points = response.points;
  const value = (gap: boolean, number: number | bigint | undefined) =>
    gap || number === undefined ? null : Number(number);
  const gaps = points.map((point) => point.gap);
  const starts = points.map((point) => dateOf(point.startTime) ?? new Date(0));
  const people: Series[] = [
    {
      name: "average",
      values: points.map((p) => value(p.gap, p.occupancyAvg)),
      style: "line",
      className: "series-avg",
    },
    {
      name: "maximum",
      values: points.map((p) => value(p.gap, p.occupancyMax)),
      style: "dashed",
      className: "series-max",
    },
  ];
  const queue: Series[] = [
    {
      name: "average",
      values: points.map((p) => value(p.gap, p.queueAvg)),
      style: "line",
      className: "series-avg",
    },
    {
      name: "maximum",
      values: points.map((p) => value(p.gap, p.queueMax)),
      style: "dashed",
      className: "series-max",
    },
  ];
  const flow: Series[] = [
    {
      name: "entries",
      values: points.map((p) => value(p.gap, p.entries)),
      style: "bar",
      className: "series-in",
    },
    {
      name: "exits",
      values: points.map((p) => value(p.gap, p.exits)),
      style: "bar",
      className: "series-out",
    },
  ];
  return { gaps, starts, people, queue, flow };
}

function legend(series: Series[], unit: string): HTMLElement {
  return el(
    "p",
    { class: "legend" },
    el("span", { class: "muted" }, unit),
    ...series.map((item) =>
      el("span", { class: `legend-item ${item.className} legend-${item.style}` }, item.name),
    ),
    el("span", { class: "legend-item legend-gap" }, "no video"),
  );
}

export function chartsView(context: AppContext): View {
  const notice = new Notice("charts-error");
  const storeSelect = select({ "data-testid": "charts-store" }, [], "");
  const cameraSelect = select({ "data-testid": "charts-camera" }, [["", "All cameras"]], "");
  const rangeSelect = select(
    { "data-testid": "charts-range" },
    RANGES,
    context.params.get("range") ?? "1h",
  );
  const granularitySelect = select(
    { "data-testid": "charts-granularity" },
    GRANULARITIES,
    String(Granularity.MINUTE),
  );
  // Custom ranges are entered in the store's time zone, like the chart axes.
  const startInput = el("input", { type: "datetime-local", "data-testid": "charts-start" });
  const endInput = el("input", { type: "datetime-local", "data-testid": "charts-end" });
  const zoneNote = el("span", { class: "muted", "data-testid": "charts-time-zone" });
  const customFields = el(
    "div",
    { class: "inline-fields" },
    labelled("From", startInput),
    labelled("To", endInput),
    zoneNote,
  );
  const summary = el("p", { class: "muted", "data-testid": "charts-summary" });
  const chartsBox = el("div", { class: "stack", "data-testid": "charts" });
  let stores: Store[] = [];
  let cameras: Camera[] = [];
  let stopLive: (() => void) | null = null;
  let querySerial = 0;
  // The last relative range shown, which a new custom range starts from.
  let lastRelative = "1h";

  const storeTimeZone = (): string =>
    stores.find((store) => store.storeId === storeSelect.value)?.timeZone || "UTC";

  const relativeRange = (choice: string): Range => {
    // Whole periods only: the open period at the end is included as it fills.
    const period = PERIOD_MS[Number(granularitySelect.value)];
    const end = floorTo(Date.now(), period) + period;
    return { start: new Date(end - RANGE_MS[choice]), end: new Date(end) };
  };

  const currentRange = (): Range | null => {
    const choice = rangeSelect.value;
    if (choice !== "custom") {
      return relativeRange(choice);
    }
    const start = zonedInputToDate(startInput.value, storeTimeZone());
    const end = zonedInputToDate(endInput.value, storeTimeZone());
    if (start === null || end === null) {
      notice.show("error", "Enter both the start and the end of the custom range.");
      return null;
    }
    return { start, end };
  };

  const fillCustomRange = () => {
    const timeZone = storeTimeZone();
    zoneNote.textContent = `times in ${timeZone}`;
    if (startInput.value === "" || endInput.value === "") {
      const range = relativeRange(lastRelative);
      startInput.value = dateToZonedInput(range.start, timeZone);
      endInput.value = dateToZonedInput(range.end, timeZone);
    }
  };

  const fillCameras = () => {
    const storeCameras = cameras.filter((camera) => camera.storeId === storeSelect.value);
    const chosen = context.params.get("camera") ?? cameraSelect.value;
    replaceChildren(cameraSelect, el("option", { value: "" }, "All cameras"));
    for (const camera of storeCameras) {
      const option = el("option", { value: camera.cameraId }, camera.name || camera.cameraId);
      option.selected = camera.cameraId === chosen;
      cameraSelect.append(option);
    }
  };

  const query = async () => {
    const storeId = storeSelect.value;
    if (storeId === "") {
      return;
    }
    const range = currentRange();
    if (range === null) {
      return;
    }
    const granularity = Number(granularitySelect.value) as Granularity;
    if (range.end <= range.start) {
      notice.show("error", "The end of the range must be after its start.");
      return;
    }
    const points = Math.ceil(
      (range.end.getTime() - range.start.getTime()) / PERIOD_MS[granularity],
    );
    if (points > MAX_POINTS[granularity]) {
      notice.show(
        "error",
        `That range has ${points} periods at this granularity; the limit is ` +
          `${MAX_POINTS[granularity]}. Choose a coarser granularity or a shorter range.`,
      );
      return;
    }
    const serial = ++querySerial;
    try {
      const response = await context.api.metrics.queryTimeSeries(
        create(QueryTimeSeriesRequestSchema, {
          storeId,
          cameraId: cameraSelect.value,
          granularity,
          startTime: timestampFromDate(range.start),
          endTime: timestampFromDate(range.end),
        }),
      );
      if (serial !== querySerial) {
        return;
      }
      notice.clear();
      renderResponse(response, granularity);
    } catch (error) {
      notice.show("error", `Could not load metrics. ${describeError(error)}`);
    }
  };

  const renderResponse = (response: QueryTimeSeriesResponse, granularity: Granularity) => {
    const data = chartSeries(response);
    const common = {
      starts: data.starts,
      gaps: data.gaps,
      periodMs: PERIOD_MS[granularity],
      timeZone: response.timeZone || "UTC",
    };
    const gapCount = data.gaps.filter(Boolean).length;
    summary.textContent =
      `${data.starts.length} periods, ${data.starts.length - gapCount} with video, ` +
      `times in ${common.timeZone}`;
    replaceChildren(
      chartsBox,
      el(
        "figure",
        { class: "card" },
        el("figcaption", {}, "People in view"),
        legend(data.people, "people"),
        renderChart({
          ...common,
          title: "People in view",
          testId: "chart-people",
          series: data.people,
          unit: "people",
        }),
      ),
      el(
        "figure",
        { class: "card" },
        el("figcaption", {}, "Queue length"),
        legend(data.queue, "people waiting"),
        renderChart({
          ...common,
          title: "Queue length",
          testId: "chart-queue",
          series: data.queue,
          unit: "people",
        }),
      ),
      el(
        "figure",
        { class: "card" },
        el("figcaption", {}, "Entries and exits"),
        legend(data.flow, "people per period"),
        renderChart({
          ...common,
          title: "Entries and exits",
          testId: "chart-flow",
          series: data.flow,
          unit: "people",
        }),
      ),
    );
  };

  const restart = () => {
    stopLive?.();
    stopLive = null;
    customFields.hidden = rangeSelect.value !== "custom";
    if (rangeSelect.value === "custom") {
      fillCustomRange();
      void query();
      return;
    }
    lastRelative = rangeSelect.value;
    stopLive = repeat(query, LIVE_REFRESH_MS);
  };

  storeSelect.addEventListener("change", () => {
    context.params.delete("camera");
    fillCameras();
    restart();
  });
  cameraSelect.addEventListener("change", restart);
  rangeSelect.addEventListener("change", () => {
    // A relative range too long for the chosen granularity switches to the
    // finest one that fits, e.g. the last 7 days to hours.
    const span = RANGE_MS[rangeSelect.value];
    if (span !== undefined) {
      const fitting = [Granularity.MINUTE, Granularity.HOUR, Granularity.DAY].find(
        (granularity) => span / PERIOD_MS[granularity] <= MAX_POINTS[granularity],
      );
      if (fitting !== undefined && Number(granularitySelect.value) < fitting) {
        granularitySelect.value = String(fitting);
      }
    }
    restart();
  });
  granularitySelect.addEventListener("change", restart);
  const showButton = el(
    "button",
    { type: "button", class: "primary", "data-testid": "charts-show", onclick: restart },
    "Show",
  );

  // A link may name a custom range as ISO 8601 instants, e.g.
  // #/charts?store=s1&start=2026-01-05T12:00:00Z&end=2026-01-05T13:00:00Z.
  const applyLinkedRange = () => {
    const start = new Date(context.params.get("start") ?? "");
    const end = new Date(context.params.get("end") ?? "");
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      return;
    }
    rangeSelect.value = "custom";
    startInput.value = dateToZonedInput(start, storeTimeZone());
    endInput.value = dateToZonedInput(end, storeTimeZone());
  };

  const load = async () => {
    try {
      const [storeList, cameraList] = await Promise.all([
        context.api.stores.listStores(create(ListStoresRequestSchema, {})),
        context.api.cameras.listCameras(create(ListCamerasRequestSchema, {})),
      ]);
      stores = storeList.stores;
      cameras = cameraList.cameras;
      if (stores.length === 0) {
        notice.show("info", "No stores yet, so there is nothing to chart.");
        return;
      }
      const chosen = context.params.get("store") ?? stores[0].storeId;
      replaceChildren(
        storeSelect,
        ...stores.map((store) => {
          const option = el("option", { value: store.storeId }, store.name || store.storeId);
          option.selected = store.storeId === chosen;
          return option;
        }),
      );
      fillCameras();
      applyLinkedRange();
      restart();
    } catch (error) {
      notice.show("error", `Could not load stores. ${describeError(error)}`);
    }
  };
  void load();

  const element = el(
    "section",
    { class: "view", "data-testid": "charts-view", "aria-labelledby": "charts-title" },
    el("div", { class: "view-header" }, el("h1", { id: "charts-title" }, "Charts"), summary),
    el(
      "form",
      { class: "toolbar", onsubmit: (event: Event) => event.preventDefault() },
      labelled("Store", storeSelect),
      labelled("Camera", cameraSelect),
      labelled("Range", rangeSelect),
      labelled("Granularity", granularitySelect),
      customFields,
      showButton,
    ),
    notice.element,
    chartsBox,
  );
  return {
    element,
    dispose: () => {
      stopLive?.();
      querySerial += 1;
    },
  };
}
