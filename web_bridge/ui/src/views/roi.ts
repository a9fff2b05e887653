// ROI editor: the camera's latest snapshot with its zones and lines, drawn and
// edited on the image, pushed with SetCameraRoi, and the agents' rollout of the
// resulting config versions (applied, or rejected with the reason).

import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";

import { describeError, errorCode } from "../api";
import { el, labelled, replaceChildren, select } from "../dom";
import { dateOf, formatAge, formatDateTime } from "../format";
import { Role } from "../gen/dalevision/ops/v1/auth_pb";
import { type Camera, ListCamerasRequestSchema } from "../gen/dalevision/ops/v1/camera_pb";
import type { CameraRoi } from "../gen/dalevision/edge/v1/config_pb";
import {
  GetCameraRoiRequestSchema,
  GetLatestSnapshotRequestSchema,
  GetSnapshotRequestSchema,
  ListRolloutStatusRequestSchema,
  RequestSnapshotRequestSchema,
  type RolloutStatus,
  SetCameraRoiRequestSchema,
  type Snapshot,
  SnapshotState,
} from "../gen/dalevision/ops/v1/config_pb";
import { Notice } from "../notice";
import { RoiCanvas, type Mode } from "../roi_canvas";
import { draftFromProto, draftToProto, type RoiDraft, validateDraft } from "../roi_model";
import { hasRole } from "../session";
import { RoiForms } from "./roi_forms";
import type { AppContext, View } from "./view";

const SNAPSHOT_POLL_MS = 500;
// A connected agent sends the snapshot within a few seconds. After this long the
// page reports that no snapshot arrived.
const SNAPSHOT_WAIT_MS = 30_000;
// Rollout is polled fast right after a push and slowly otherwise.
const ROLLOUT_FAST_POLL_MS = 1_000;
const ROLLOUT_SLOW_POLL_MS = 5_000;

interface ShownSnapshot {
  url: string;
  width: number;
  height: number;
  takeTime: Date | null;
}

const MODE_HINTS: Record<Mode, string> = {
  select: "Click a zone or line to select it, then drag its points to move them.",
  zone: "Click the corners of the zone. Click the first corner or press Enter to finish, Backspace removes the last corner, Escape cancels.",
  line: "Click the two ends of the line, A then B. Escape cancels.",
};

/** Compare drafts by content, ignoring the editor's shape keys. */
function draftText(draft: RoiDraft): string {
  return JSON.stringify({
    shapes: draft.shapes.map(({ key: _key, ...rest }) => rest),
    parameters: draft.parameters,
  });
}

function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return target !== null && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName);
}

export function roiView(context: AppContext): View {
  const { api } = context;
  const canWrite = hasRole(context.session, Role.MANAGER);
  const notice = new Notice("roi-error");
  const disposed = new AbortController();
  let cameras: Camera[] = [];
  let camera: Camera | null = null;
  let draft: RoiDraft = draftFromProto(undefined);
  let savedText = draftText(draft);
  let roiFrame = { width: 0, height: 0 };
  let snapshot: ShownSnapshot | null = null;
  let rollout: RolloutStatus[] = [];
  // Versions made by this page's last push, per agent.
  let pushedVersions = new Map<string, bigint>();
  let rolloutTimer: number | undefined;
  let snapshotSerial = 0;

  const cameraSelect = select({ "data-testid": "roi-camera" }, [], "");
  const snapshotState = el("span", { class: "muted", "data-testid": "roi-snapshot-state" }, "");
  const snapshotButton = el(
    "button",
    { type: "button", "data-testid": "roi-snapshot-request", disabled: !canWrite },
    "Take new snapshot",
  );
  const addZoneButton = el(
    "button",
    { type: "button", "data-testid": "roi-add-zone", "aria-pressed": "false" },
    "Draw zone",
  );
  const addLineButton = el(
    "button",
    { type: "button", "data-testid": "roi-add-line", "aria-pressed": "false" },
    "Draw line",
  );
  const finishButton = el(
    "button",
    { type: "button", "data-testid": "roi-finish-zone", hidden: true },
    "Finish zone",
  );
  const cancelButton = el(
    "button",
    { type: "button", "data-testid": "roi-cancel-drawing", hidden: true },
    "Cancel",
  );
  const modeHint = el(
    "p",
    { class: "muted hint", "data-testid": "roi-mode-hint" },
    canWrite ? MODE_HINTS.select : "Click a zone or line to see its settings.",
  );
  const frameNote = el("p", { class: "muted", "data-testid": "roi-frame" });
  const originNote = el("p", { class: "muted", "data-testid": "roi-origin" });
  const problemsList = el("ul", { class: "problems", "data-testid": "roi-problems" });
  const dirtyState = el("span", { class: "muted", "data-testid": "roi-dirty" }, "");
  const pushButton = el(
    "button",
    { type: "button", class: "primary", "data-testid": "roi-push", disabled: true },
    "Push to agents",
  );
  const discardButton = el(
    "button",
    { type: "button", "data-testid": "roi-discard" },
    "Discard changes",
  );
  const rolloutBody = el("tbody", { "data-testid": "roi-rollout-rows" });
  const rolloutEmpty = el(
    "p",
    { class: "muted", hidden: true },
    "No agent serves this camera's store yet.",
  );
  const rolloutNotice = new Notice("roi-rollout-error");

  // The cloud stores only ROIs set through it. An agent whose camera has none
  // runs the ROI of its local file, and the first push replaces that ROI.
  const showOrigin = (userId: string | null, time: Date | null) => {
    originNote.textContent =
      userId === null
        ? "No ROI was set through the cloud for this camera yet: its agent runs the " +
          "ROI of its local config file, which a push replaces."
        : `ROI last set by ${userId === context.session.userId ? "you" : userId} at ` +
          `${formatDateTime(time)}.`;
    originNote.dataset.origin = userId === null ? "local" : "cloud";
  };

  const showSnapshotState = (state: string, text: string) => {
    snapshotState.textContent = text;
    snapshotState.dataset.state = state;
    snapshotState.className = state === "error" || state === "failed" ? "error-text" : "muted";
  };

  const frameSize = () => {
    if (snapshot !== null) {
      return { width: snapshot.width, height: snapshot.height };
    }
    if (roiFrame.width > 0) {
      return roiFrame;
    }
    return { width: camera?.frameWidth ?? 0, height: camera?.frameHeight ?? 0 };
  };

  const refreshState = () => {
    const { width, height } = frameSize();
    const problems = validateDraft(draft, width, height);
    canvas.setInvalid(
      new Set(problems.flatMap((problem) => (problem.key === null ? [] : [problem.key]))),
    );
    replaceChildren(problemsList, ...problems.map((problem) => el("li", {}, problem.message)));
    problemsList.hidden = problems.length === 0;
    const dirty = draftText(draft) !== savedText;
    dirtyState.textContent = dirty ? "Unsaved changes" : "No unsaved changes";
    dirtyState.dataset.dirty = String(dirty);
    pushButton.disabled =
      !canWrite || camera === null || width === 0 || problems.length > 0 || !dirty;
    discardButton.disabled = !dirty;
  };

  const forms = new RoiForms(() => draft, !canWrite, {
    onChange: (structural) => {
      canvas.render();
      if (structural) {
        forms.renderList(canvas.selectedKey);
      }
      refreshState();
    },
    onSelect: (key) => canvas.select(key),
    onDelete: () => canvas.deleteSelected(),
  });

  const canvas = new RoiCanvas(draft, !canWrite, {
    onChange: (structural) => {
      if (structural) {
        forms.renderList(canvas.selectedKey);
      }
      forms.refreshPoints(canvas.selectedShape());
      refreshState();
    },
    onSelect: (key) => {
      forms.renderList(key);
      forms.renderShape(canvas.selectedShape());
    },
    onModeChange: (mode) => {
      if (canWrite) {
        modeHint.textContent = MODE_HINTS[mode];
      }
      addZoneButton.setAttribute("aria-pressed", String(mode === "zone"));
      addLineButton.setAttribute("aria-pressed", String(mode === "line"));
      finishButton.hidden = mode !== "zone";
      cancelButton.hidden = mode === "select";
    },
  });

  const showFrame = () => {
    const { width, height } = frameSize();
    canvas.setFrame(width, height, snapshot?.url ?? null);
    const drawable = width > 0 && canWrite;
    addZoneButton.disabled = !drawable;
    addLineButton.disabled = !drawable;
    if (width === 0) {
      frameNote.textContent =
        "The camera's frame size is not known yet: take a snapshot (the agent must be connected) before drawing.";
    } else if (roiFrame.width > 0 && (roiFrame.width !== width || roiFrame.height !== height)) {
      frameNote.textContent =
        `The stored ROI was drawn on a ${roiFrame.width}×${roiFrame.height} frame but the ` +
        `snapshot is ${width}×${height}: redraw the shapes before pushing.`;
    } else {
      frameNote.textContent = `Frame ${width}×${height} pixels.`;
    }
    refreshState();
  };

  const setSnapshot = (value: Snapshot) => {
    if (snapshot !== null) {
      URL.revokeObjectURL(snapshot.url);
    }
    const blob = new Blob([new Uint8Array(value.jpeg)], { type: "image/jpeg" });
    snapshot = {
      url: URL.createObjectURL(blob),
      width: value.width,
      height: value.height,
      takeTime: dateOf(value.takeTime),
    };
    showSnapshotState(
      "shown",
      `Snapshot taken ${formatDateTime(snapshot.takeTime)} (${formatAge(snapshot.takeTime)}).`,
    );
    showFrame();
  };

  const loadLatestSnapshot = async (cameraId: string): Promise<boolean> => {
    try {
      const response = await api.config.getLatestSnapshot(
        create(GetLatestSnapshotRequestSchema, { cameraId, requireJpeg: true }),
        { signal: disposed.signal },
      );
      if (response.snapshot !== undefined && camera?.cameraId === cameraId) {
        setSnapshot(response.snapshot);
        return true;
      }
    } catch (error) {
      if (errorCode(error) !== Code.NotFound && !disposed.signal.aborted) {
        showSnapshotState("error", `Could not load the latest snapshot. ${describeError(error)}`);
      }
    }
    return false;
  };

  const requestSnapshot = async (cameraId: string) => {
    const serial = ++snapshotSerial;
    snapshotButton.disabled = true;
    showSnapshotState("pending", "Waiting for the agent to send a snapshot…");
    try {
      const requested = await api.config.requestSnapshot(
        create(RequestSnapshotRequestSchema, { cameraId, waitSeconds: 0 }),
        { signal: disposed.signal },
      );
      let result = requested.snapshot;
      const deadline = Date.now() + SNAPSHOT_WAIT_MS;
      while (result?.state === SnapshotState.PENDING && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_POLL_MS));
        if (disposed.signal.aborted || serial !== snapshotSerial) {
          return;
        }
        const polled = await api.config.getSnapshot(
          create(GetSnapshotRequestSchema, { requestId: result.requestId }),
          { signal: disposed.signal },
        );
        result = polled.snapshot;
      }
      if (serial !== snapshotSerial || camera?.cameraId !== cameraId) {
        return;
      }
      if (result?.state === SnapshotState.COMPLETED) {
        setSnapshot(result);
      } else if (result?.state === SnapshotState.FAILED) {
        showSnapshotState("failed", `The agent could not take a snapshot: ${result.error}`);
      } else {
        showSnapshotState(
          "timeout",
          `No snapshot from the agent within ${SNAPSHOT_WAIT_MS / 1000} s. ` +
            "Check that it is connected, then try again.",
        );
      }
    } catch (error) {
      if (!disposed.signal.aborted) {
        showSnapshotState("error", `Could not request a snapshot. ${describeError(error)}`);
      }
    } finally {
      snapshotButton.disabled = !canWrite;
    }
  };

  const renderRollout = () => {
    replaceChildren(
      rolloutBody,
      ...rollout.map((status) => {
        const pushed = pushedVersions.get(status.agentId);
        let state: string;
        let text: string;
        // A version applied after a rejection supersedes it, and the other way round.
        const appliedLast = status.appliedVersion > status.rejectedVersion;
        if (pushed !== undefined && status.appliedVersion >= pushed && appliedLast) {
          state = "applied";
          text = `Applied version ${status.appliedVersion}`;
        } else if (pushed !== undefined && status.rejectedVersion >= pushed) {
          state = "rejected";
          text = `Rejected version ${status.rejectedVersion}: ${status.rejectionReason}`;
        } else if (pushed !== undefined) {
          state = "waiting";
          text = `Waiting for the agent to apply version ${pushed}`;
        } else if (status.desiredVersion === 0n) {
          state = "local";
          text = "No config pushed yet: the agent runs its local file";
        } else if (status.inSync) {
          state = "applied";
          text = `Runs the newest version, ${status.appliedVersion}`;
        } else if (status.rejectedVersion > 0n && status.rejectedVersion >= status.desiredVersion) {
          state = "rejected";
          text = `Rejected version ${status.rejectedVersion}: ${status.rejectionReason}`;
        } else {
          state = "waiting";
          text = "Not yet running the newest version";
        }
        return el(
          "tr",
          {
            "data-testid": `roi-rollout-${status.agentId}`,
            "data-state": state,
            "data-desired": status.desiredVersion.toString(),
            "data-applied": status.appliedVersion.toString(),
          },
          el("td", {}, status.agentId),
          el("td", { "data-testid": "rollout-desired" }, status.desiredVersion.toString()),
          el("td", { "data-testid": "rollout-applied" }, status.appliedVersion.toString()),
          el("td", {}, el("span", { class: `badge rollout-${state}` }, state), " ", text),
          el("td", {}, formatAge(dateOf(status.lastSeenTime))),
        );
      }),
    );
    rolloutEmpty.hidden = rollout.length > 0;
  };

  const pollRollout = async () => {
    window.clearTimeout(rolloutTimer);
    if (camera === null || disposed.signal.aborted) {
      return;
    }
    let waiting = false;
    try {
      const response = await api.config.listRolloutStatus(
        create(ListRolloutStatusRequestSchema, { storeId: camera.storeId }),
        { signal: disposed.signal },
      );
      rollout = response.statuses;
      rolloutNotice.clear();
      renderRollout();
      waiting = rollout.some((status) => {
        const pushed = pushedVersions.get(status.agentId);
        return (
          pushed !== undefined && status.appliedVersion < pushed && status.rejectedVersion < pushed
        );
      });
    } catch (error) {
      if (disposed.signal.aborted) {
        return;
      }
      rolloutNotice.show("error", `Could not read the rollout status. ${describeError(error)}`);
    }
    rolloutTimer = window.setTimeout(
      pollRollout,
      waiting ? ROLLOUT_FAST_POLL_MS : ROLLOUT_SLOW_POLL_MS,
    );
  };

  // Shows a loaded or saved ROI as the draft, with nothing left to push.
  const showDraft = (roi: CameraRoi | undefined) => {
    draft = draftFromProto(roi);
    roiFrame = { width: roi?.frameWidth ?? 0, height: roi?.frameHeight ?? 0 };
    savedText = draftText(draft);
    canvas.setDraft(draft);
    forms.renderList(null);
    forms.renderShape(null);
    forms.renderParameters();
    showFrame();
  };

  const loadCamera = async (cameraId: string) => {
    camera = cameras.find((item) => item.cameraId === cameraId) ?? null;
    if (camera === null) {
      return;
    }
    notice.clear();
    pushedVersions = new Map();
    snapshotSerial += 1;
    if (snapshot !== null) {
      URL.revokeObjectURL(snapshot.url);
      snapshot = null;
    }
    showSnapshotState("none", "");

    try {
      const response = await api.config.getCameraRoi(
        create(GetCameraRoiRequestSchema, { cameraId }),
        { signal: disposed.signal },
      );
      showDraft(response.roi);
      const setBy = response.updateTime === undefined ? null : response.updateUserId;
      showOrigin(setBy, dateOf(response.updateTime));
    } catch (error) {
      if (disposed.signal.aborted) {
        return;
      }
      notice.show("error", `Could not load the ROI of ${cameraId}. ${describeError(error)}`);
      showDraft(undefined);
      originNote.textContent = "";
      delete originNote.dataset.origin;
    }
    void pollRollout();

    const hadSnapshot = await loadLatestSnapshot(cameraId);
    if (canWrite) {
      void requestSnapshot(cameraId);
    } else if (!hadSnapshot) {
      showSnapshotState("none", "No snapshot yet. A manager can request one.");
    }
  };

  const push = async () => {
    if (camera === null) {
      return;
    }
    const { width, height } = frameSize();
    pushButton.disabled = true;
    notice.clear();
    try {
      const response = await api.config.setCameraRoi(
        create(SetCameraRoiRequestSchema, {
          cameraId: camera.cameraId,
          roi: draftToProto(draft, camera.cameraId, width, height),
        }),
      );
      pushedVersions = new Map(response.configVersions.map((ref) => [ref.agentId, ref.version]));
      showDraft(response.roi);
      showOrigin(context.session.userId, new Date());
      const versions = response.configVersions
        .map((ref) => `${ref.agentId} version ${ref.version}`)
        .join(", ");
      notice.show(
        "success",
        versions === ""
          ? "ROI saved. The store has no agent yet, so its first agent gets the ROI when it connects."
          : `ROI saved as ${versions}.`,
      );
      void pollRollout();
    } catch (error) {
      notice.show("error", `Could not push the ROI. ${describeError(error)}`);
      refreshState();
    }
  };

  addZoneButton.addEventListener("click", () =>
    canvas.setMode(canvas.mode === "zone" ? "select" : "zone"),
  );
  addLineButton.addEventListener("click", () =>
    canvas.setMode(canvas.mode === "line" ? "select" : "line"),
  );
  finishButton.addEventListener("click", () => {
    if (!canvas.finishZone()) {
      notice.show("error", "A zone needs at least 3 corners: click more points on the image.");
    }
  });
  cancelButton.addEventListener("click", () => canvas.setMode("select"));
  pushButton.addEventListener("click", () => void push());
  discardButton.addEventListener("click", () => {
    if (camera !== null) {
      void loadCamera(camera.cameraId);
    }
  });
  snapshotButton.addEventListener("click", () => {
    if (camera !== null) {
      void requestSnapshot(camera.cameraId);
    }
  });
  cameraSelect.addEventListener("change", () => {
    if (draftText(draft) !== savedText && !window.confirm("Discard the unsaved ROI changes?")) {
      cameraSelect.value = camera?.cameraId ?? "";
      return;
    }
    context.navigate("roi", { camera: cameraSelect.value });
  });

  const onKey = (event: KeyboardEvent) => {
    if (isTyping(event)) {
      return;
    }
    if (event.key === "Escape") {
      canvas.setMode("select");
    } else if (event.key === "Enter" && canvas.mode === "zone") {
      canvas.finishZone();
    } else if (event.key === "Backspace" && canvas.mode === "zone") {
      canvas.undoPoint();
    } else if ((event.key === "Delete" || event.key === "Backspace") && canvas.mode === "select") {
      canvas.deleteSelected();
    } else {
      return;
    }
    event.preventDefault();
  };
  document.addEventListener("keydown", onKey);

  const load = async () => {
    try {
      const response = await api.cameras.listCameras(create(ListCamerasRequestSchema, {}), {
        signal: disposed.signal,
      });
      cameras = response.cameras;
    } catch (error) {
      if (!disposed.signal.aborted) {
        notice.show("error", `Could not load cameras. ${describeError(error)}`);
      }
      return;
    }
    if (cameras.length === 0) {
      notice.show("info", "No cameras yet. Add one with `dale-cloud admin create-camera`.");
      return;
    }
    const chosen = context.params.get("camera") ?? cameras[0].cameraId;
    replaceChildren(
      cameraSelect,
      ...cameras.map((item) => {
        const option = el(
          "option",
          { value: item.cameraId },
          `${item.name || item.cameraId} (${item.storeId})`,
        );
        option.selected = item.cameraId === chosen;
        return option;
      }),
    );
    await loadCamera(cameraSelect.value);
  };
  void load();

  const element = el(
    "section",
    { class: "view", "data-testid": "roi-view", "aria-labelledby": "roi-title" },
    el("div", { class: "view-header" }, el("h1", { id: "roi-title" }, "ROI editor"), dirtyState),
    el(
      "div",
      { class: "toolbar" },
      labelled("Camera", cameraSelect),
      snapshotButton,
      snapshotState,
    ),
    notice.element,
    el(
      "div",
      { class: "roi-layout" },
      el(
        "div",
        { class: "roi-main" },
        el(
          "div",
          { class: "toolbar" },
          addZoneButton,
          addLineButton,
          finishButton,
          cancelButton,
          canWrite
            ? null
            : el("span", { class: "muted" }, "Your role can view ROIs but not change them."),
        ),
        modeHint,
        el("div", { class: "roi-stage" }, canvas.element),
        frameNote,
        originNote,
      ),
      el(
        "aside",
        { class: "roi-side", "aria-label": "Shapes and settings" },
        forms.element,
        problemsList,
        el("div", { class: "toolbar" }, pushButton, discardButton),
      ),
    ),
    el(
      "section",
      { class: "card", "aria-labelledby": "rollout-title" },
      el("h2", { id: "rollout-title" }, "Rollout to agents"),
      rolloutNotice.element,
      el(
        "table",
        { "data-testid": "roi-rollout" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["Agent", "Desired version", "Applied version", "State", "Last seen"].map((h) =>
              el("th", { scope: "col" }, h),
            ),
          ),
        ),
        rolloutBody,
      ),
      rolloutEmpty,
    ),
  );
  return {
    element,
    dispose: () => {
      disposed.abort();
      window.clearTimeout(rolloutTimer);
      document.removeEventListener("keydown", onKey);
      if (snapshot !== null) {
        URL.revokeObjectURL(snapshot.url);
      }
    },
  };
}
