// Stores with their cameras and agents: live status, last seen, fps, errors and
// config rollout, refreshed periodically.

import { create } from "@bufbuild/protobuf";

import { describeError } from "../api";
import { el, replaceChildren } from "../dom";
import { dateOf, enumLabel, formatAge, formatDateTime, formatNumber } from "../format";
import { type Agent, ListAgentsRequestSchema } from "../gen/dalevision/ops/v1/agent_pb";
import {
  type Camera,
  CameraStatus,
  ListCamerasRequestSchema,
} from "../gen/dalevision/ops/v1/camera_pb";
import { ListStoresRequestSchema, type Store } from "../gen/dalevision/ops/v1/store_pb";
import { Notice } from "../notice";
import { repeat, type AppContext, type View } from "./view";

const REFRESH_INTERVAL_MS = 5_000;

interface Inventory {
  stores: Store[];
  cameras: Camera[];
  agents: Agent[];
  loadedAt: number;
}

function statusBadge(status: CameraStatus): HTMLElement {
  const label = enumLabel(CameraStatus, status);
  return el(
    "span",
    { class: `badge status-${label.replaceAll(" ", "-")}`, "data-status": label },
    label,
  );
}

function timeCell(date: Date | null, now: number): HTMLElement {
  return el(
    "time",
    { title: formatDateTime(date), datetime: date?.toISOString() },
    formatAge(date, now),
  );
}

function cameraRow(camera: Camera, context: AppContext, now: number): HTMLElement {
  const size = camera.frameWidth > 0 ? `${camera.frameWidth}×${camera.frameHeight}` : "–";
  return el(
    "tr",
    { "data-testid": `camera-row-${camera.cameraId}`, "data-camera-id": camera.cameraId },
    el(
      "td",
      {},
      el("strong", {}, camera.name || camera.cameraId),
      el("div", { class: "muted" }, camera.cameraId),
    ),
    el("td", { "data-testid": "camera-status" }, statusBadge(camera.status)),
    el("td", { "data-testid": "camera-last-seen" }, timeCell(dateOf(camera.lastSeenTime), now)),
    el("td", {}, formatNumber(camera.fps)),
    el("td", {}, size),
    el("td", { class: "error-text" }, camera.lastError),
    el(
      "td",
      { class: "actions" },
      el(
        "button",
        {
          type: "button",
          onclick: () =>
            context.navigate("charts", { store: camera.storeId, camera: camera.cameraId }),
        },
        "Charts",
      ),
      el(
        "button",
        {
          type: "button",
          "data-testid": `edit-roi-${camera.cameraId}`,
          onclick: () => context.navigate("roi", { camera: camera.cameraId }),
        },
        "Edit ROI",
      ),
    ),
  );
}

function rolloutText(agent: Agent): string {
  const desired = agent.desiredConfigVersion;
  const applied = agent.appliedConfigVersion;
  if (agent.rejectedConfigVersion > 0n && agent.rejectedConfigVersion >= desired) {
    return `version ${agent.rejectedConfigVersion} rejected: ${agent.rejectionReason}`;
  }
  if (desired === 0n) {
    return "no config pushed yet: runs its local file";
  }
  if (desired === applied) {
    return `version ${applied} applied`;
  }
  return `version ${desired} pending (running ${applied})`;
}

function agentRow(agent: Agent, now: number): HTMLElement {
  return el(
    "tr",
    { "data-testid": `agent-row-${agent.agentId}` },
    el(
      "td",
      {},
      el("strong", {}, agent.name || agent.agentId),
      el("div", { class: "muted" }, agent.agentId),
    ),
    el("td", {}, agent.softwareVersion || "–"),
    el("td", {}, timeCell(dateOf(agent.lastSeenTime), now)),
    el("td", {}, agent.outboxDepth.toString()),
    el("td", {}, rolloutText(agent)),
  );
}

function table(headers: string[], rows: HTMLElement[], empty: string): HTMLElement {
  if (rows.length === 0) {
    return el("p", { class: "muted" }, empty);
  }
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ...headers.map((header) => el("th", { scope: "col" }, header)))),
    el("tbody", {}, ...rows),
  );
}

function storeSection(store: Store, inventory: Inventory, context: AppContext): HTMLElement {
  const now = inventory.loadedAt;
  const cameras = inventory.cameras.filter((camera) => camera.storeId === store.storeId);
  const agents = inventory.agents.filter((agent) => agent.storeId === store.storeId);
  const online = cameras.filter((camera) => camera.status === CameraStatus.ONLINE).length;
  return el(
    "section",
    {
      class: "card",
      "data-testid": `store-${store.storeId}`,
      "aria-labelledby": `store-title-${store.storeId}`,
    },
    el(
      "header",
      { class: "card-header" },
      el("h2", { id: `store-title-${store.storeId}` }, store.name || store.storeId),
      el(
        "span",
        { class: "muted" },
        `${store.storeId} · ${store.timeZone} · ${online}/${cameras.length} cameras online`,
      ),
      el(
        "button",
        { type: "button", onclick: () => context.navigate("charts", { store: store.storeId }) },
        "Store charts",
      ),
    ),
    el("h3", {}, "Cameras"),
    table(
      ["Camera", "Status", "Last seen", "FPS", "Frame", "Last error", ""],
      cameras.map((camera) => cameraRow(camera, context, now)),
      "No cameras in this store.",
    ),
    el("h3", {}, "Agents"),
    table(
      ["Agent", "Version", "Last seen", "Outbox", "Config"],
      agents.map((agent) => agentRow(agent, now)),
      "No agents in this store.",
    ),
  );
}

export function storesView(context: AppContext): View {
  const notice = new Notice("stores-error");
  const updated = el("span", { class: "muted", "data-testid": "stores-updated" }, "loading…");
  const list = el("div", { class: "stack", "data-testid": "store-list" });

  const load = async () => {
    try {
      const [stores, cameras, agents] = await Promise.all([
        context.api.stores.listStores(create(ListStoresRequestSchema, {})),
        context.api.cameras.listCameras(create(ListCamerasRequestSchema, {})),
        context.api.agents.listAgents(create(ListAgentsRequestSchema, {})),
      ]);
      const inventory: Inventory = {
        stores: stores.stores,
        cameras: cameras.cameras,
        agents: agents.agents,
        loadedAt: Date.now(),
      };
      notice.clear();
      if (inventory.stores.length === 0) {
        replaceChildren(
          list,
          el(
            "p",
            { class: "muted" },
            "No stores yet. Create one with `dale-cloud admin create-store`.",
          ),
        );
      } else {
        replaceChildren(
          list,
          ...inventory.stores.map((store) => storeSection(store, inventory, context)),
        );
      }
      updated.textContent = `updated ${formatDateTime(new Date(inventory.loadedAt)).slice(11)}`;
    } catch (error) {
      notice.show("error", `Could not load stores and cameras. ${describeError(error)}`);
    }
  };

  const stop = repeat(load, REFRESH_INTERVAL_MS);
  const element = el(
    "section",
    { class: "view", "data-testid": "stores-view", "aria-labelledby": "stores-title" },
    el(
      "div",
      { class: "view-header" },
      el("h1", { id: "stores-title" }, "Stores and cameras"),
      updated,
    ),
    notice.element,
    list,
  );
  return { element, dispose: stop };
}
