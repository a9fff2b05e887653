// Live alerts from the alert feed, with resolve and ignore for managers.

import { create } from "@bufbuild/protobuf";

import { describeError } from "../api";
import type { FeedState } from "../alert_feed";
import { el, labelled, replaceChildren, select } from "../dom";
import { dateOf, enumLabel, formatAge, formatDateTime, formatNumber } from "../format";
import {
  type Alert,
  AlertSeverity,
  AlertSource,
  AlertStatus,
  AlertType,
  IgnoreAlertRequestSchema,
  ResolveAlertRequestSchema,
} from "../gen/dalevision/ops/v1/alert_pb";
import { Role } from "../gen/dalevision/ops/v1/auth_pb";
import { Notice } from "../notice";
import { hasRole } from "../session";
import type { AppContext, View } from "./view";

// Rows highlighted as new stay so for this long (the CSS animation's length).
const NEW_HIGHLIGHT_MS = 10_000;
// The "raised ... ago" texts are redrawn this often.
const AGE_REFRESH_MS = 10_000;

const FILTERS: ReadonlyArray<readonly [string, string]> = [
  ["open", "Open"],
  ["all", "All"],
];

/** Describe the feed's connection for the status line. */
export function feedStateText(state: FeedState, now: number = Date.now()): string {
  switch (state.kind) {
    case "connecting":
      return "Connecting…";
    case "live":
      return "Live";
    case "retrying": {
      const seconds = Math.max(0, Math.ceil((state.retryAt - now) / 1000));
      return `Reconnecting in ${seconds} s (attempt ${state.attempt}): ${state.error}`;
    }
    case "stopped":
      return "Stopped";
  }
}

function alertPlace(alert: Alert): string {
  const parts = [alert.storeId];
  if (alert.cameraId !== "") {
    parts.push(alert.cameraId);
  }
  if (alert.zoneId !== "") {
    parts.push(`zone ${alert.zoneId}`);
  }
  return parts.join(" / ");
}

function alertValue(alert: Alert): string {
  const value = formatNumber(alert.value, 2);
  if (alert.threshold === undefined) {
    return value;
  }
  return `${value} (threshold ${formatNumber(alert.threshold, 2)})`;
}

export function alertsView(context: AppContext): View {
  const notice = new Notice("alerts-error");
  const canChange = hasRole(context.session, Role.MANAGER);
  const stateLine = el("span", { class: "feed-state", "data-testid": "alerts-feed-state" });
  const filter = select({ "data-testid": "alerts-filter" }, FILTERS, "open");
  const body = el("tbody", { "data-testid": "alert-rows" });
  const empty = el("p", { class: "muted", "data-testid": "alerts-empty" }, "No alerts.");
  const arrivedAt = new Map<bigint, number>();
  let stateTimer: number | undefined;

  const changeStatus = async (
    alert: Alert,
    action: "resolve" | "ignore",
    button: HTMLButtonElement,
  ) => {
    button.disabled = true;
    try {
      const response =
        action === "resolve"
          ? await context.api.alerts.resolveAlert(
              create(ResolveAlertRequestSchema, { alertId: alert.alertId }),
            )
          : await context.api.alerts.ignoreAlert(
              create(IgnoreAlertRequestSchema, { alertId: alert.alertId }),
            );
      if (response.alert !== undefined) {
        context.feed.put(response.alert);
      }
      notice.show(
        "success",
        `Alert ${alert.alertId} ${action === "resolve" ? "resolved" : "ignored"}.`,
      );
    } catch (error) {
      notice.show("error", `Could not ${action} alert ${alert.alertId}. ${describeError(error)}`);
      button.disabled = false;
    }
  };

  const row = (alert: Alert, now: number): HTMLElement => {
    const status = enumLabel(AlertStatus, alert.status);
    const severity = enumLabel(AlertSeverity, alert.severity);
    const age = now - (arrivedAt.get(alert.alertId) ?? 0);
    const isNew = age < NEW_HIGHLIGHT_MS;
    const actions = el("td", { class: "actions" });
    if (alert.status === AlertStatus.OPEN && canChange) {
      const resolve = el(
        "button",
        { type: "button", class: "primary", "data-testid": "alert-resolve" },
        "Resolve",
      );
      const ignore = el("button", { type: "button", "data-testid": "alert-ignore" }, "Ignore");
      resolve.addEventListener("click", () => changeStatus(alert, "resolve", resolve));
      ignore.addEventListener("click", () => changeStatus(alert, "ignore", ignore));
      actions.append(resolve, ignore);
    } else if (alert.status !== AlertStatus.OPEN) {
      const when = formatDateTime(dateOf(alert.resolveTime));
      actions.append(el("span", { class: "muted" }, `${status} ${when}`));
    }
    const raised = dateOf(alert.raiseTime);
    return el(
      "tr",
      {
        class: isNew ? "alert-new" : "",
        // A redrawn row continues its highlight where the previous one was.
        style: isNew ? `animation-delay: -${age}ms` : null,
        "data-testid": `alert-row-${alert.alertId}`,
        "data-alert-id": alert.alertId.toString(),
        "data-status": status,
        "data-type": enumLabel(AlertType, alert.type),
      },
      el("td", {}, el("span", { class: `badge severity-${severity}` }, severity)),
      el(
        "td",
        {},
        el("strong", {}, enumLabel(AlertType, alert.type)),
        el(
          "div",
          { class: "muted" },
          `#${alert.alertId} · ${enumLabel(AlertSource, alert.source)}`,
        ),
      ),
      el("td", {}, alertPlace(alert)),
      el("td", {}, alert.message, el("div", { class: "muted" }, alertValue(alert))),
      el(
        "td",
        {},
        el(
          "time",
          { title: formatDateTime(raised), datetime: raised?.toISOString() },
          formatAge(raised, now),
        ),
      ),
      el(
        "td",
        { "data-testid": "alert-status" },
        el("span", { class: `badge status-${status}` }, status),
      ),
      actions,
    );
  };

  const render = () => {
    const now = Date.now();
    const alerts = context.feed
      .sorted()
      .filter((alert) => filter.value === "all" || alert.status === AlertStatus.OPEN);
    replaceChildren(body, ...alerts.map((alert) => row(alert, now)));
    empty.hidden = alerts.length > 0;
  };

  const showState = () => {
    const state = context.feed.state;
    stateLine.textContent = feedStateText(state);
    stateLine.dataset.state = state.kind;
    window.clearTimeout(stateTimer);
    if (state.kind === "retrying") {
      stateTimer = window.setTimeout(showState, 1000);
    }
  };

  const unsubscribe = context.feed.subscribe((update) => {
    const now = Date.now();
    for (const id of update.changed) {
      arrivedAt.set(id, now);
    }
    render();
    showState();
  });
  filter.addEventListener("change", render);
  render();
  showState();
  const ageTimer = window.setInterval(render, AGE_REFRESH_MS);

  const element = el(
    "section",
    { class: "view", "data-testid": "alerts-view", "aria-labelledby": "alerts-title" },
    el("div", { class: "view-header" }, el("h1", { id: "alerts-title" }, "Alerts"), stateLine),
    el(
      "div",
      { class: "toolbar" },
      labelled("Show", filter),
      canChange
        ? null
        : el(
            "span",
            { class: "muted" },
            "Your role can read alerts but not resolve or ignore them.",
          ),
    ),
    notice.element,
    el(
      "table",
      { class: "alerts" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ...["Severity", "Alert", "Where", "Message", "Raised", "Status", ""].map((header) =>
            el("th", { scope: "col" }, header),
          ),
        ),
      ),
      body,
    ),
    empty,
  );
  return {
    element,
    dispose: () => {
      unsubscribe();
      window.clearTimeout(stateTimer);
      window.clearInterval(ageTimer);
    },
  };
}
