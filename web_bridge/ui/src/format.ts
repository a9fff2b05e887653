// Text for times, durations and enum values shown to operators.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Return the Date of a Timestamp, or null when the field is unset. */
export function dateOf(timestamp: Timestamp | undefined): Date | null {
  if (timestamp === undefined) {
    return null;
  }
  const date = timestampDate(timestamp);
  return date.getTime() === 0 ? null : date;
}

/**
 * Format a date in `timeZone` (the browser's when unset) to the second, e.g.
 * "2026-12-04 14:03:09".
 */
export function formatDateTime(date: Date | null, timeZone?: string): string {
  if (date === null) {
    return "never";
  }
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return (
    `${part("year")}-${part("month")}-${part("day")} ` +
    `${part("hour")}:${part("minute")}:${part("second")}`
  );
}

/** Format how long ago `date` was, e.g. "4 s ago", "12 min ago", "3 h ago". */
export function formatAge(date: Date | null, now: number = Date.now()): string {
  if (date === null) {
    return "never";
  }
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (seconds < 90) {
    return `${seconds} s ago`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) {
    return `${hours} h ago`;
  }
  return `${Math.round(hours / 24)} d ago`;
}

/** Format a number with at most `digits` decimals, dropping trailing zeros. */
export function formatNumber(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) {
    return "–";
  }
  return Number(value.toFixed(digits)).toString();
}

/**
 * Return the readable name of a protobuf enum value from its generated enum
 * object, e.g. CameraStatus.ONLINE -> "online".
 */
export function enumLabel(
  enumObject: Record<string | number, string | number>,
  value: number,
): string {
  const name = enumObject[value];
  if (typeof name !== "string") {
    return `unknown (${value})`;
  }
  return name.toLowerCase().replaceAll("_", " ");
}

const DAY_MS = 86_400_000;
const LOCAL_INPUT_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

// Milliseconds that `timeZone` is ahead of UTC at `date`.
function zoneOffsetMs(date: Date, timeZone: string): number {
  const text = formatDateTime(date, timeZone);
  const [day, time] = text.split(" ");
  const [year, month, dayOfMonth] = day.split("-").map(Number);
  const [hour, minute, second] = time.split(":").map(Number);
  const wallClock = Date.UTC(year, month - 1, dayOfMonth, hour, minute, second);
  return wallClock - Math.floor(date.getTime() / 1000) * 1000;
}

/**
 * Return the instant that a datetime-local value ("2026-01-05T09:30") names in
 * `timeZone`, or null when the value is malformed. A wall-clock time that occurs
 * twice when clocks go back is the first of the two, and one skipped when clocks
 * go forward moves forward by the length of the skip.
 */
export function zonedInputToDate(value: string, timeZone: string): Date | null {
  const match = LOCAL_INPUT_PATTERN.exec(value);
  if (match === null) {
    return null;
  }
  const [year, month, day, hour, minute] = match.slice(1).map(Number);
  const wallClock = Date.UTC(year, month - 1, day, hour, minute);
  // The zone's offsets a day before and after cover any one clock change.
  const candidates = [-DAY_MS, DAY_MS]
    .map((shift) => wallClock - zoneOffsetMs(new Date(wallClock + shift), timeZone))
    .sort((a, b) => a - b);
  const exact = candidates.find(
    (candidate) => dateToZonedInput(new Date(candidate), timeZone) === value,
  );
  return new Date(exact ?? candidates[candidates.length - 1]);
}

/** Format an instant as a datetime-local value in `timeZone`. */
export function dateToZonedInput(date: Date, timeZone: string): string {
  return formatDateTime(date, timeZone).slice(0, 16).replace(" ", "T");
}
