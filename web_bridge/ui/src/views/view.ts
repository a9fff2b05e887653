// The context every screen of the signed-in app receives, and the view it returns.

import type { Api } from "../api";
import type { AlertFeed } from "../alert_feed";
import type { Session } from "../session";

export interface AppContext {
  api: Api;
  session: Session;
  feed: AlertFeed;
  /** Query parameters of the route, e.g. store and camera ids. */
  params: URLSearchParams;
  /** Go to another route, e.g. navigate("charts", { store: "s1" }). */
  navigate: (route: string, params?: Record<string, string>) => void;
}

export interface View {
  element: HTMLElement;
  /** Stop timers, streams and listeners. Called when the route changes. */
  dispose: () => void;
}

/** Run `task` now and then every `intervalMs`, never two at once. */
export function repeat(task: () => Promise<void>, intervalMs: number): () => void {
  let timer: number | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      await task();
    } finally {
      if (!stopped) {
        timer = window.setTimeout(tick, intervalMs);
      }
    }
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
