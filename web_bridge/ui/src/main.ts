// Entry point of the operator UI: sign-in, the app shell and hash routes
// (#/stores, #/charts, #/alerts, #/roi), and the live alert feed.

import { create } from "@bufbuild/protobuf";

import { AlertFeed } from "./alert_feed";
import { createApi, describeError } from "./api";
import { el, replaceChildren } from "./dom";
import { LogoutRequestSchema } from "./gen/dalevision/ops/v1/auth_pb";
import { clearSession, loadSession, roleName, saveSession, type Session } from "./session";
import { alertsView } from "./views/alerts";
import { chartsView } from "./views/charts";
import { roiView } from "./views/roi";
import { renderSignIn } from "./views/signin";
import { storesView } from "./views/stores";
import type { AppContext, View } from "./views/view";

const ROUTES: Record<string, { title: string; create: (context: AppContext) => View }> = {
  stores: { title: "Stores", create: storesView },
  charts: { title: "Charts", create: chartsView },
  alerts: { title: "Alerts", create: alertsView },
  roi: { title: "ROI editor", create: roiView },
};
const DEFAULT_ROUTE = "stores";
const EXPIRED_MESSAGE = "Your session has ended. Sign in again.";

const root = document.getElementById("app");
if (root === null) {
  throw new Error("index.html has no element with id 'app'");
}

let session: Session | null = loadSession();
let feed: AlertFeed | null = null;
let currentView: View | null = null;
let removeHashListener: (() => void) | null = null;

const api = createApi({
  baseUrl: window.location.origin,
  getToken: () => session?.accessToken ?? null,
  onUnauthenticated: () => endExpiredSession(),
});

function parseHash(): { route: string; params: URLSearchParams } {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?", 2);
  const route = path in ROUTES ? path : DEFAULT_ROUTE;
  return { route, params: new URLSearchParams(query) };
}

function navigate(route: string, params: Record<string, string> = {}): void {
  const query = new URLSearchParams(params).toString();
  window.location.hash = `#/${route}${query === "" ? "" : `?${query}`}`;
}

function showSignIn(message: string | null): void {
  replaceChildren(
    root!,
    renderSignIn(
      api,
      (signedIn) => {
        session = signedIn;
        saveSession(signedIn);
        showApp();
      },
      message,
    ),
  );
}

function signOut(message: string | null, callLogout: boolean): void {
  const token = session?.accessToken ?? null;
  if (callLogout && token !== null) {
    // Logout revokes the token on the server. If it fails, the token expires later.
    api.auth.logout(create(LogoutRequestSchema, {})).catch((error: unknown) => {
      console.warn(`Logout failed: ${describeError(error)}`);
    });
  }
  currentView?.dispose();
  currentView = null;
  feed?.stop();
  feed = null;
  removeHashListener?.();
  removeHashListener = null;
  session = null;
  clearSession();
  showSignIn(message);
}

// Several calls in flight may fail with UNAUTHENTICATED, and a Logout with an
// already invalid token does too, so only the first one while signed in counts.
function endExpiredSession(): void {
  if (session !== null) {
    signOut(EXPIRED_MESSAGE, false);
  }
}

function header(active: AlertFeed, current: Session): HTMLElement {
  const badge = el("span", {
    class: "badge count",
    "data-testid": "nav-open-alerts",
    hidden: true,
  });
  const updateBadge = () => {
    const count = active.openCount();
    badge.textContent = String(count);
    badge.hidden = count === 0;
    badge.setAttribute("aria-label", `${count} open alerts`);
  };
  active.subscribe(updateBadge);
  const links = Object.entries(ROUTES).map(([route, { title }]) =>
    el(
      "a",
      { href: `#/${route}`, "data-route": route, "data-testid": `nav-${route}` },
      title,
      route === "alerts" ? badge : null,
    ),
  );
  return el(
    "header",
    { class: "topbar" },
    el("span", { class: "brand" }, "DALE Vision"),
    el("nav", { "aria-label": "Main" }, ...links),
    el(
      "div",
      { class: "user" },
      el("span", { "data-testid": "user-email" }, current.email),
      el("span", { class: "muted" }, roleName(current.role)),
      el(
        "button",
        { type: "button", "data-testid": "sign-out", onclick: () => signOut(null, true) },
        "Sign out",
      ),
    ),
  );
}

function showApp(): void {
  if (session === null) {
    showSignIn(null);
    return;
  }
  const current = session;
  feed = new AlertFeed(api, endExpiredSession);
  const active = feed;
  const main = el("main", { class: "content", id: "content" });
  replaceChildren(root!, header(active, current), main);

  const route = () => {
    currentView?.dispose();
    const { route: name, params } = parseHash();
    for (const link of root!.querySelectorAll<HTMLAnchorElement>("nav a")) {
      if (link.dataset.route === name) {
        link.setAttribute("aria-current", "page");
      } else {
        link.removeAttribute("aria-current");
      }
    }
    currentView = ROUTES[name].create({ api, session: current, feed: active, params, navigate });
    document.title = `${ROUTES[name].title} · DALE Vision`;
    replaceChildren(main, currentView.element);
  };
  window.addEventListener("hashchange", route);
  removeHashListener = () => window.removeEventListener("hashchange", route);
  route();
  active.start();
}

showApp();
