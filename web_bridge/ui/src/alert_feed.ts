// Live alerts of the operator's organization: the newest page from ListAlerts,
// then WatchAlerts for new and changed alerts. When the stream ends or fails the
// feed subscribes again with the largest alert id seen, after a backoff.

import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";

import { describeError, errorCode, isAbort, type Api } from "./api";
import {
  type Alert,
  AlertStatus,
  ListAlertsRequestSchema,
  WatchAlertsRequestSchema,
} from "./gen/dalevision/ops/v1/alert_pb";

// Alerts loaded by ListAlerts on each (re)subscription, newest first.
const RECENT_ALERTS_PAGE_SIZE = 200;
const RETRY_BASE_DELAY_MS = 1_000;
const RETRY_MAX_DELAY_MS = 30_000;
// Share of the delay added or removed at random, so many tabs do not retry in step.
const RETRY_JITTER = 0.2;

export type FeedState =
  | { kind: "connecting" }
  | { kind: "live"; since: number }
  | { kind: "retrying"; retryAt: number; attempt: number; error: string }
  | { kind: "stopped" };

export interface FeedUpdate {
  state: FeedState;
  /** Alert ids that arrived or changed in this update (empty for state changes). */
  changed: bigint[];
}

type Listener = (update: FeedUpdate) => void;

/** Return the delay before retry number `attempt` (1 for the first retry). */
export function retryDelayMs(attempt: number, random: number = Math.random()): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** exponent);
  const jitter = 1 + RETRY_JITTER * (2 * random - 1);
  return Math.round(base * jitter);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export class AlertFeed {
  readonly alerts = new Map<bigint, Alert>();
  state: FeedState = { kind: "stopped" };
  /** Largest alert id received, after which WatchAlerts resumes. */
  lastAlertId = 0n;
  /** Subscriptions made so far, the first one included. */
  subscriptions = 0;
  private readonly listeners = new Set<Listener>();
  private controller: AbortController | null = null;

  constructor(
    private readonly api: Pick<Api, "alerts">,
    private readonly onUnauthenticated: () => void,
    private readonly retryDelay: (attempt: number) => number = retryDelayMs,
  ) {}

  start(): void {
    if (this.controller !== null) {
      return;
    }
    this.controller = new AbortController();
    void this.run(this.controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.setState({ kind: "stopped" });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Alerts sorted newest first. */
  sorted(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => {
      if (a.alertId === b.alertId) {
        return 0;
      }
      return a.alertId > b.alertId ? -1 : 1;
    });
  }

  openCount(): number {
    let count = 0;
    for (const alert of this.alerts.values()) {
      if (alert.status === AlertStatus.OPEN) {
        count += 1;
      }
    }
    return count;
  }

  /** Store an alert returned by a call (resolve, ignore) and tell listeners. */
  put(alert: Alert): void {
    this.store(alert);
    this.emit([alert.alertId]);
  }

  private store(alert: Alert): void {
    this.alerts.set(alert.alertId, alert);
    if (alert.alertId > this.lastAlertId) {
      this.lastAlertId = alert.alertId;
    }
  }

  private emit(changed: bigint[]): void {
    for (const listener of this.listeners) {
      listener({ state: this.state, changed });
    }
  }

  private setState(state: FeedState): void {
    this.state = state;
    this.emit([]);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      let received = false;
      let failure = "the server ended the alert stream";
      try {
        this.setState({ kind: "connecting" });
        this.subscriptions += 1;
        await this.loadRecent(signal);
        this.setState({ kind: "live", since: Date.now() });
        const stream = this.api.alerts.watchAlerts(
          create(WatchAlertsRequestSchema, { afterAlertId: this.lastAlertId }),
          { signal, timeoutMs: 0 },
        );
        for await (const response of stream) {
          received = true;
          attempt = 0;
          if (response.event.case === "alert") {
            this.store(response.event.value);
            this.emit([response.event.value.alertId]);
          }
        }
      } catch (error) {
        if (isAbort(error, signal)) {
          return;
        }
        if (errorCode(error) === Code.Unauthenticated) {
          this.stop();
          this.onUnauthenticated();
          return;
        }
        failure = describeError(error);
      }
      if (signal.aborted) {
        return;
      }
      // A stream that delivered messages was healthy: retry soon. One that failed
      // at once backs off further on every attempt.
      attempt = received ? 1 : attempt + 1;
      const delay = this.retryDelay(attempt);
      this.setState({
        kind: "retrying",
        retryAt: Date.now() + delay,
        attempt,
        error: failure,
      });
      await sleep(delay, signal);
    }
  }

  // Changes to alerts older than the stream's resume point that happened while
  // no stream was open are caught by reloading the newest page.
  private async loadRecent(signal: AbortSignal): Promise<void> {
    const response = await this.api.alerts.listAlerts(
      create(ListAlertsRequestSchema, { pageSize: RECENT_ALERTS_PAGE_SIZE }),
      { signal },
    );
    const changed: bigint[] = [];
    for (const alert of response.alerts) {
      const known = this.alerts.get(alert.alertId);
      if (known === undefined || known.status !== alert.status) {
        changed.push(alert.alertId);
      }
      this.store(alert);
    }
    // The first page is history, not news: listeners redraw without highlighting.
    this.emit(this.subscriptions === 1 ? [] : changed);
  }
}
