import assert from "node:assert/strict";
import { test } from "node:test";

import {
  dateToZonedInput,
  enumLabel,
  formatAge,
  formatNumber,
  zonedInputToDate,
} from "../src/format";
import { CameraStatus } from "../src/gen/dalevision/ops/v1/camera_pb";

const SAO_PAULO = "America/Sao_Paulo";

function utc(value: string, timeZone: string): string | undefined {
  return zonedInputToDate(value, timeZone)?.toISOString();
}

test("zoned input in standard time", () => {
  assert.equal(utc("2026-01-05T09:30", SAO_PAULO), "2026-01-05T12:30:00.000Z");
  assert.equal(utc("2026-01-05T09:30", "UTC"), "2026-01-05T09:30:00.000Z");
});

test("zoned input skipped by a clock change moves forward", () => {
  // 2018-11-04 00:00 in Sao Paulo jumped to 01:00 (UTC-3 to UTC-2).
  assert.equal(utc("2018-11-04T00:30", SAO_PAULO), "2018-11-04T03:30:00.000Z");
  assert.equal(utc("2018-11-04T01:30", SAO_PAULO), "2018-11-04T03:30:00.000Z");
  assert.equal(utc("2018-11-03T23:59", SAO_PAULO), "2018-11-04T02:59:00.000Z");
});

test("zoned input repeated by a clock change is the first one", () => {
  // 2019-02-17 00:00 in Sao Paulo went back to 2019-02-16 23:00 (UTC-2 to UTC-3).
  assert.equal(utc("2019-02-16T23:30", SAO_PAULO), "2019-02-17T01:30:00.000Z");
  assert.equal(utc("2019-02-17T00:30", SAO_PAULO), "2019-02-17T03:30:00.000Z");
});

test("zoned input rejects malformed values", () => {
  for (const value of ["", "2026-01-05", "2026-01-05 09:30", "05/01/2026T09:30"]) {
    assert.equal(zonedInputToDate(value, SAO_PAULO), null, value);
  }
});

test("zoned input round trip", () => {
  const instant = new Date("2026-07-01T03:00:00Z");
  assert.equal(dateToZonedInput(instant, SAO_PAULO), "2026-07-01T00:00");
  assert.equal(zonedInputToDate("2026-07-01T00:00", SAO_PAULO)?.getTime(), instant.getTime());
});

test("age texts by size", () => {
  const now = Date.parse("2026-01-05T12:00:00Z");
  const ago = (seconds: number) => formatAge(new Date(now - seconds * 1000), now);
  assert.equal(ago(4), "4 s ago");
  assert.equal(ago(89), "89 s ago");
  assert.equal(ago(12 * 60), "12 min ago");
  assert.equal(ago(3 * 3600), "3 h ago");
  assert.equal(ago(5 * 86400), "5 d ago");
  assert.equal(formatAge(null, now), "never");
  // A clock slightly ahead of the browser's never shows a negative age.
  assert.equal(ago(-3), "0 s ago");
});

test("numbers and enum labels", () => {
  assert.equal(formatNumber(2.0), "2");
  assert.equal(formatNumber(2.26, 1), "2.3");
  assert.equal(formatNumber(undefined), "–");
  assert.equal(enumLabel(CameraStatus, CameraStatus.ONLINE), "online");
  assert.equal(enumLabel(CameraStatus, 99), "unknown (99)");
});
