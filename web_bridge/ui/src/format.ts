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

/** Format a date as local date and time to the second, e.g. "2026-12-04 14:03:09". */
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
