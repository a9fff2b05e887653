import assert from "node:assert/strict";
import { test } from "node:test";

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

import { AlertFeed, retryDelayMs } from "../src/alert_feed";
import type { Api } from "../src/api";
import {
  type Alert,
  AlertSchema,
  AlertStatus,
  type WatchAlertsResponse,
  WatchAlertsResponseSchema,
  WatchKeepaliveSchema,
} from "../src/gen/dalevision/ops/v1/alert_pb";

function alert(id: number, status = AlertStatus.OPEN): Alert {
  return create(AlertSchema, { alertId: BigInt(id), status, message: `alert ${id}` });
}

function event(value: Alert): WatchAlertsResponse {
  return create(WatchAlertsResponseSchema, { event: { case: "alert", value } });
}

function keepalive(): WatchAlertsResponse {
  const value = create(WatchKeepaliveSchema, { serverTime: timestampFromDate(new Date()) });
  return create(WatchAlertsResponseSchema, { event: { case: "keepalive", value } });
}

// One scripted subscription: what ListAlerts returns, what the stream sends,
// and how it ends (an error, or null for a normal end).
interface Round {
  listed: Alert[];
  streamed: WatchAlertsResponse[];
  end: ConnectError | null;
}

class FakeAlerts {
  readonly watchedAfter: bigint[] = [];
  readonly rounds: Round[];

  constructor(rounds: Round[]) {
    this.rounds = rounds;
  }

  async listAlerts() {
    const round = this.rounds[Math.min(this.watchedAfter.length, this.rounds.length - 1)];
    return { alerts: round.listed, nextPageToken: "" };
  }

  watchAlerts(request: { afterAlertId: bigint }, options: { signal: AbortSignal }) {
    const round = this.rounds[this.watchedAfter.length];
    this.watchedAfter.push(request.afterAlertId);
    return (async function* () {
      if (round === undefined) {
        // No more scripted rounds: stay open until the feed stops.
        await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
        throw new ConnectError("aborted", Code.Canceled);
      }
      for (const response of round.streamed) {
        yield response;
      }
      if (round.end !== null) {
        throw round.end;
      }
    })();
  }
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function feedWith(rounds: Round[], attempts: number[], onUnauthenticated = () => {}) {
  const alerts = new FakeAlerts(rounds);
  const api = { alerts } as unknown as Pick<Api, "alerts">;
  const feed = new AlertFeed(api, onUnauthenticated, (attempt) => {
    attempts.push(attempt);
    return 0;
  });
  return { feed, alerts };
}

test("retry delays grow and stop at the maximum", () => {
  assert.equal(retryDelayMs(1, 0.5), 1000);
  assert.equal(retryDelayMs(2, 0.5), 2000);
  assert.equal(retryDelayMs(4, 0.5), 8000);
  assert.equal(retryDelayMs(10, 0.5), 30000);
  assert.equal(retryDelayMs(1, 0), 800);
  assert.equal(retryDelayMs(1, 1), 1200);
});

test("feed resubscribes after the last alert id seen", async () => {
  const unavailable = new ConnectError("bridge shutting down", Code.Unavailable);
  const attempts: number[] = [];
  const { feed, alerts } = feedWith(
    [
      { listed: [alert(3), alert(1)], streamed: [event(alert(4)), keepalive()], end: unavailable },
      {
        listed: [alert(4, AlertStatus.RESOLVED), alert(3), alert(1)],
        streamed: [event(alert(5))],
        end: null,
      },
    ],
    attempts,
  );
  const changes: bigint[][] = [];
  feed.subscribe((update) => {
    if (update.changed.length > 0) {
      changes.push(update.changed);
    }
  });
  feed.start();
  await waitFor(() => alerts.watchedAfter.length === 3, "the third subscription");
  feed.stop();

  assert.deepEqual(alerts.watchedAfter, [3n, 4n, 5n]);
  assert.deepEqual(
    feed.sorted().map((item) => item.alertId),
    [5n, 4n, 3n, 1n],
  );
  assert.equal(feed.alerts.get(4n)?.status, AlertStatus.RESOLVED);
  assert.equal(feed.openCount(), 3);
  // Both ends came after messages, so each retry is a first attempt.
  assert.deepEqual(attempts, [1, 1]);
  // The first page is history; alert 4 changed while no stream was open.
  assert.deepEqual(changes, [[4n], [4n], [5n]]);
  assert.equal(feed.state.kind, "stopped");
});

test("feed backs off while the stream fails at once", async () => {
  const failure = new ConnectError("upstream down", Code.Unavailable);
  const attempts: number[] = [];
  const states: string[] = [];
  const { feed, alerts } = feedWith(
    [
      { listed: [], streamed: [], end: failure },
      { listed: [], streamed: [], end: failure },
      { listed: [], streamed: [], end: failure },
    ],
    attempts,
  );
  feed.subscribe((update) => {
    if (update.state.kind === "retrying") {
      states.push(update.state.error);
    }
  });
  feed.start();
  await waitFor(() => alerts.watchedAfter.length === 4, "the fourth subscription");
  feed.stop();
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.deepEqual(alerts.watchedAfter, [0n, 0n, 0n, 0n]);
  assert.equal(states[0], "UNAVAILABLE: upstream down");
});

test("feed stops and signs out on an expired token", async () => {
  let signedOut = 0;
  const attempts: number[] = [];
  const { feed, alerts } = feedWith(
    [{ listed: [], streamed: [], end: new ConnectError("token expired", Code.Unauthenticated) }],
    attempts,
    () => {
      signedOut += 1;
    },
  );
  feed.start();
  await waitFor(() => signedOut === 1, "the sign-out");
  assert.equal(feed.state.kind, "stopped");
  assert.deepEqual(attempts, []);
  assert.equal(alerts.watchedAfter.length, 1);
});

test("put stores an alert returned by a call", () => {
  const { feed } = feedWith([], []);
  feed.put(alert(7));
  feed.put(alert(7, AlertStatus.IGNORED));
  assert.equal(feed.alerts.size, 1);
  assert.equal(feed.openCount(), 0);
  assert.equal(feed.lastAlertId, 7n);
});
