// The signed-in operator's bearer token, kept in sessionStorage so it lasts for
// the browser tab and is gone when the tab closes.

import { Role } from "./gen/dalevision/ops/v1/auth_pb";

const STORAGE_KEY = "dalevision.session";

export interface Session {
  accessToken: string;
  email: string;
  userId: string;
  organizationId: string;
  role: Role;
  /** Token expiry in milliseconds since the epoch, or 0 when the server gave none. */
  expireTimeMs: number;
}

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return (
    typeof record.accessToken === "string" &&
    record.accessToken !== "" &&
    typeof record.email === "string" &&
    typeof record.role === "number" &&
    typeof record.expireTimeMs === "number"
  );
}

/** Return the stored session, or null when there is none or it has expired. */
export function loadSession(now: number = Date.now()): Session | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (text === null) {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    clearSession();
    return null;
  }
  if (!isSession(parsed)) {
    clearSession();
    return null;
  }
  if (parsed.expireTimeMs !== 0 && parsed.expireTimeMs <= now) {
    clearSession();
    return null;
  }
  return parsed;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Tell whether `role` is at least `minimum` (viewer < manager < admin < owner). */
export function hasRole(session: Session | null, minimum: Role): boolean {
  return session !== null && session.role >= minimum;
}

export function roleName(role: Role): string {
  switch (role) {
    case Role.VIEWER:
      return "viewer";
    case Role.MANAGER:
      return "manager";
    case Role.ADMIN:
      return "admin";
    case Role.OWNER:
      return "owner";
    default:
      return "unknown role";
  }
}
