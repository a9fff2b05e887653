// The drawing surface of the ROI editor: an SVG in image pixels with the camera
// snapshot underneath. Zones are drawn by clicking their corners, and lines by
// clicking their two ends. In select mode, corners and ends can be dragged. A "+"
// on an edge adds a corner, and a double click on a corner removes it.

import { svg } from "./dom";
import { LineSide, ZoneKind } from "./gen/dalevision/edge/v1/config_pb";
import {
  type LineShape,
  newKey,
  nextId,
  type Point,
  type RoiDraft,
  type Shape,
  sideNormal,
  type ZoneShape,
} from "./roi_model";

export type Mode = "select" | "zone" | "line";

export interface CanvasCallbacks {
  /** The draft changed. `structural` is true when shapes were added or removed. */
  onChange: (structural: boolean) => void;
  onSelect: (key: number | null) => void;
  onModeChange: (mode: Mode) => void;
}

// Handle sizes are a share of the frame width, so they look alike at any size.
const HANDLE_RADIUS_SHARE = 1 / 110;
// A click this close to the first corner (in handle radii) closes the polygon.
const CLOSE_DISTANCE_RADII = 2;
const ARROW_LENGTH_SHARE = 1 / 12;
// An arrow pointing more sideways than this (as a share of its length) gets its
// label beside it rather than centred beyond its tip.
const SIDEWAYS_ARROW = 0.3;

type Drag =
  | { kind: "vertex"; key: number; index: number }
  | { kind: "end"; key: number; end: "a" | "b" }
  | { kind: "move"; key: number; last: Point };

const KIND_CLASS: Record<number, string> = {
  [ZoneKind.QUEUE]: "zone-queue",
  [ZoneKind.CHECKOUT_CUSTOMER]: "zone-checkout-customer",
  [ZoneKind.CHECKOUT_STAFF]: "zone-checkout-staff",
  [ZoneKind.ENTRANCE]: "zone-entrance",
  [ZoneKind.AREA]: "zone-area",
};

// Arrow head of the "in" arrows of lines.
function arrowDefinitions(): SVGDefsElement {
  return svg(
    "defs",
    {},
    svg(
      "marker",
      {
        id: "roi-arrow",
        viewBox: "0 0 10 10",
        refX: 8,
        refY: 5,
        markerWidth: 5,
        markerHeight: 5,
        orient: "auto-start-reverse",
      },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }),
    ),
  );
}

// Puts the label of an arrow pointing sideways beside its tip, else centred on it.
function labelAnchor(normal: Point): string {
  if (normal.x > SIDEWAYS_ARROW) {
    return "start";
  }
  if (normal.x < -SIDEWAYS_ARROW) {
    return "end";
  }
  return "middle";
}

function pointsAttribute(points: ReadonlyArray<Point>): string {
  return points.map((p) => `${p.x},${p.y}`).join(" ");
}

function centroid(points: ReadonlyArray<Point>): Point {
  const sum = points.reduce((acc, p) => ({ x: acc.x + p.x, y: acc.y + p.y }), { x: 0, y: 0 });
  return { x: sum.x / points.length, y: sum.y / points.length };
}

export class RoiCanvas {
  readonly element: SVGSVGElement;
  mode: Mode = "select";
  selectedKey: number | null = null;
  width = 0;
  height = 0;
  private readonly image: SVGImageElement;
  private readonly overlay: SVGGElement;
  private drawing: Point[] = [];
  private cursor: Point | null = null;
  private drag: Drag | null = null;
  private invalidKeys = new Set<number>();

  constructor(
    private draft: RoiDraft,
    /** Shapes can be selected but not drawn, moved or deleted. */
    private readonly readOnly: boolean,
    private readonly callbacks: CanvasCallbacks,
  ) {
    this.image = svg("image", { x: 0, y: 0, preserveAspectRatio: "none" });
    this.overlay = svg("g", {});
    this.element = svg(
      "svg",
      {
        class: "roi-canvas",
        "data-testid": "roi-canvas",
        role: "application",
        "aria-label": "ROI drawing area: camera image with zones and lines",
        tabindex: 0,
      },
      arrowDefinitions(),
      this.image,
      this.overlay,
    );
    this.element.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.element.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.element.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.element.addEventListener("pointercancel", (event) => this.onPointerUp(event));
    this.element.addEventListener("dblclick", (event) => this.onDoubleClick(event));
  }

  get drawingPointCount(): number {
    return this.drawing.length;
  }

  /** Set the frame size and the image under the shapes (null for none). */
  setFrame(width: number, height: number, imageUrl: string | null): void {
    this.width = width;
    this.height = height;
    this.element.setAttribute("viewBox", `0 0 ${Math.max(width, 1)} ${Math.max(height, 1)}`);
    this.element.dataset.frame = `${width}x${height}`;
    this.image.setAttribute("width", String(width));
    this.image.setAttribute("height", String(height));
    if (imageUrl === null) {
      this.image.removeAttribute("href");
    } else {
      this.image.setAttribute("href", imageUrl);
    }
    this.render();
  }

  setDraft(draft: RoiDraft): void {
    this.draft = draft;
    this.drawing = [];
    this.drag = null;
    this.select(null);
    this.setMode("select");
  }

  setInvalid(keys: Set<number>): void {
    this.invalidKeys = keys;
    this.render();
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.drawing = [];
    this.cursor = null;
    this.element.dataset.mode = mode;
    this.callbacks.onModeChange(mode);
    this.render();
  }

  select(key: number | null): void {
    if (this.selectedKey === key) {
      return;
    }
    this.selectedKey = key;
    this.callbacks.onSelect(key);
    this.render();
  }

  selectedShape(): Shape | null {
    return this.draft.shapes.find((shape) => shape.key === this.selectedKey) ?? null;
  }

  /** Close the polygon being drawn. Returns false when it has fewer than 3 corners. */
  finishZone(): boolean {
    if (this.mode !== "zone" || this.drawing.length < 3) {
      return false;
    }
    const zone: ZoneShape = {
      type: "zone",
      key: newKey(),
      id: nextId("zone", this.draft.shapes),
      name: "",
      kind: ZoneKind.AREA,
      polygon: this.drawing,
      capacity: 0,
      staffZoneId: "",
    };
    this.addShape(zone);
    return true;
  }

  /** Drop the last corner of the polygon being drawn. */
  undoPoint(): void {
    this.drawing = this.drawing.slice(0, -1);
    this.render();
  }

  deleteSelected(): void {
    if (this.readOnly) {
      return;
    }
    const index = this.draft.shapes.findIndex((shape) => shape.key === this.selectedKey);
    if (index < 0) {
      return;
    }
    this.draft.shapes.splice(index, 1);
    this.select(null);
    this.callbacks.onChange(true);
    this.render();
  }

  private addShape(shape: Shape): void {
    this.draft.shapes.push(shape);
    this.drawing = [];
    this.setMode("select");
    this.select(shape.key);
    this.callbacks.onChange(true);
  }

  private handleRadius(): number {
    return Math.max(2, this.width * HANDLE_RADIUS_SHARE);
  }

  private toImage(event: MouseEvent): Point {
    const matrix = this.element.getScreenCTM();
    if (matrix === null) {
      return { x: 0, y: 0 };
    }
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    // Whole pixels, inside the frame.
    return {
      x: Math.round(Math.min(Math.max(point.x, 0), this.width)),
      y: Math.round(Math.min(Math.max(point.y, 0), this.height)),
    };
  }

  private shapeByKey(key: number): Shape | undefined {
    return this.draft.shapes.find((shape) => shape.key === key);
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0 || this.width === 0) {
      return;
    }
    const point = this.toImage(event);
    if (this.readOnly) {
      const target = (event.target as Element).closest("[data-handle]");
      this.select(target === null ? null : Number((target as SVGElement).dataset.key));
      return;
    }
    if (this.mode === "zone") {
      this.addZonePoint(point);
      return;
    }
    if (this.mode === "line") {
      this.addLinePoint(point);
      return;
    }
    const target = (event.target as Element).closest("[data-handle]");
    if (target === null) {
      this.select(null);
      return;
    }
    const key = Number((target as SVGElement).dataset.key);
    const handle = (target as SVGElement).dataset.handle ?? "";
    const shape = this.shapeByKey(key);
    if (shape === undefined) {
      return;
    }
    this.select(key);
    this.drag = this.startDrag(shape, handle, point);
    if (this.drag !== null) {
      this.element.setPointerCapture(event.pointerId);
      event.preventDefault();
    }
  }

  private startDrag(shape: Shape, handle: string, point: Point): Drag | null {
    if (handle === "body") {
      return { kind: "move", key: shape.key, last: point };
    }
    if (shape.type === "line") {
      return handle === "a" || handle === "b" ? { kind: "end", key: shape.key, end: handle } : null;
    }
    if (handle.startsWith("vertex-")) {
      return { kind: "vertex", key: shape.key, index: Number(handle.slice(7)) };
    }
    if (handle.startsWith("midpoint-")) {
      // Dragging the "+" of edge i inserts a corner after corner i.
      const index = Number(handle.slice(9)) + 1;
      shape.polygon.splice(index, 0, point);
      this.callbacks.onChange(false);
      return { kind: "vertex", key: shape.key, index };
    }
    return null;
  }

  private addZonePoint(point: Point): void {
    const first = this.drawing[0];
    const closeDistance = this.handleRadius() * CLOSE_DISTANCE_RADII;
    if (
      first !== undefined &&
      this.drawing.length >= 3 &&
      Math.hypot(point.x - first.x, point.y - first.y) <= closeDistance
    ) {
      this.finishZone();
      return;
    }
    const last = this.drawing[this.drawing.length - 1];
    if (last !== undefined && last.x === point.x && last.y === point.y) {
      return;
    }
    this.drawing = [...this.drawing, point];
    this.render();
  }

  private addLinePoint(point: Point): void {
    if (this.drawing.length === 0) {
      this.drawing = [point];
      this.render();
      return;
    }
    const a = this.drawing[0];
    if (a.x === point.x && a.y === point.y) {
      return;
    }
    const line: LineShape = {
      type: "line",
      key: newKey(),
      id: nextId("line", this.draft.shapes),
      name: "",
      a,
      b: point,
      inSide: LineSide.RIGHT,
      cooldownSeconds: 0,
    };
    this.addShape(line);
  }

  private onPointerMove(event: PointerEvent): void {
    if (this.mode !== "select") {
      if (this.drawing.length > 0) {
        this.cursor = this.toImage(event);
        this.render();
      }
      return;
    }
    if (this.drag === null) {
      return;
    }
    const point = this.toImage(event);
    const shape = this.shapeByKey(this.drag.key);
    if (shape === undefined) {
      return;
    }
    if (this.drag.kind === "vertex" && shape.type === "zone") {
      shape.polygon[this.drag.index] = point;
    } else if (this.drag.kind === "end" && shape.type === "line") {
      shape[this.drag.end] = point;
    } else if (this.drag.kind === "move") {
      this.moveShape(shape, point.x - this.drag.last.x, point.y - this.drag.last.y);
      this.drag.last = point;
    }
    this.callbacks.onChange(false);
    this.render();
  }

  // Moves the whole shape, stopping at the frame's edges.
  private moveShape(shape: Shape, dx: number, dy: number): void {
    const points = shape.type === "zone" ? shape.polygon : [shape.a, shape.b];
    const minX = Math.min(...points.map((p) => p.x));
    const maxX = Math.max(...points.map((p) => p.x));
    const minY = Math.min(...points.map((p) => p.y));
    const maxY = Math.max(...points.map((p) => p.y));
    const clampedX = Math.min(Math.max(dx, -minX), this.width - maxX);
    const clampedY = Math.min(Math.max(dy, -minY), this.height - maxY);
    for (const point of points) {
      point.x += clampedX;
      point.y += clampedY;
    }
  }

  private onPointerUp(event: PointerEvent): void {
    if (this.drag !== null && this.element.hasPointerCapture(event.pointerId)) {
      this.element.releasePointerCapture(event.pointerId);
    }
    this.drag = null;
  }

  private onDoubleClick(event: MouseEvent): void {
    const target = (event.target as Element).closest("[data-handle^='vertex-']");
    if (target === null || this.mode !== "select" || this.readOnly) {
      return;
    }
    const shape = this.shapeByKey(Number((target as SVGElement).dataset.key));
    if (shape === undefined || shape.type !== "zone" || shape.polygon.length <= 3) {
      return;
    }
    const index = Number(((target as SVGElement).dataset.handle ?? "").slice(7));
    shape.polygon.splice(index, 1);
    this.callbacks.onChange(false);
    this.render();
  }

  render(): void {
    const radius = this.handleRadius();
    const children: SVGElement[] = [];
    for (const shape of this.draft.shapes) {
      children.push(
        shape.type === "zone" ? this.renderZone(shape, radius) : this.renderLine(shape, radius),
      );
    }
    if (this.drawing.length > 0) {
      children.push(this.renderDrawing(radius));
    }
    this.overlay.replaceChildren(...children);
  }

  private shapeClass(shape: Shape, base: string): string {
    const classes = [base];
    if (shape.key === this.selectedKey) {
      classes.push("selected");
    }
    if (this.invalidKeys.has(shape.key)) {
      classes.push("invalid");
    }
    return classes.join(" ");
  }

  private renderZone(zone: ZoneShape, radius: number): SVGGElement {
    const selected = zone.key === this.selectedKey;
    const group = svg("g", {
      class: this.shapeClass(zone, `zone ${KIND_CLASS[zone.kind] ?? ""}`),
      "data-testid": `roi-zone-${zone.id}`,
      "data-points": zone.polygon.length,
    });
    group.append(
      svg("polygon", {
        points: pointsAttribute(zone.polygon),
        "data-handle": "body",
        "data-key": zone.key,
      }),
    );
    if (zone.polygon.length > 0) {
      const center = centroid(zone.polygon);
      group.append(
        svg(
          "text",
          { class: "shape-label", x: center.x, y: center.y, "font-size": radius * 3 },
          zone.id,
        ),
      );
    }
    if (!selected || this.readOnly) {
      return group;
    }
    zone.polygon.forEach((point, index) => {
      const next = zone.polygon[(index + 1) % zone.polygon.length];
      group.append(
        svg(
          "circle",
          {
            class: "midpoint",
            cx: (point.x + next.x) / 2,
            cy: (point.y + next.y) / 2,
            r: radius * 0.7,
            "data-handle": `midpoint-${index}`,
            "data-key": zone.key,
          },
          svg("title", {}, "Drag to add a corner"),
        ),
      );
    });
    zone.polygon.forEach((point, index) => {
      group.append(
        svg(
          "circle",
          {
            class: "handle",
            cx: point.x,
            cy: point.y,
            r: radius,
            "data-handle": `vertex-${index}`,
            "data-key": zone.key,
          },
          svg("title", {}, "Drag to move, double-click to remove"),
        ),
      );
    });
    return group;
  }

  private renderLine(line: LineShape, radius: number): SVGGElement {
    const group = svg("g", {
      class: this.shapeClass(line, "line"),
      "data-testid": `roi-line-${line.id}`,
    });
    const middle = { x: (line.a.x + line.b.x) / 2, y: (line.a.y + line.b.y) / 2 };
    const normal = sideNormal(line.a, line.b, line.inSide);
    const arrow = Math.max(this.width * ARROW_LENGTH_SHARE, radius * 4);
    const tip = { x: middle.x + normal.x * arrow, y: middle.y + normal.y * arrow };
    group.append(
      svg("line", {
        class: "line-hit",
        x1: line.a.x,
        y1: line.a.y,
        x2: line.b.x,
        y2: line.b.y,
        "data-handle": "body",
        "data-key": line.key,
      }),
      svg("line", { class: "line-stroke", x1: line.a.x, y1: line.a.y, x2: line.b.x, y2: line.b.y }),
      svg("line", {
        class: "in-arrow",
        x1: middle.x,
        y1: middle.y,
        x2: tip.x,
        y2: tip.y,
        "marker-end": "url(#roi-arrow)",
      }),
      svg(
        "text",
        {
          class: "shape-label",
          x: tip.x + normal.x * radius,
          y: tip.y + normal.y * radius * 3 + radius,
          "font-size": radius * 2.6,
          "text-anchor": labelAnchor(normal),
        },
        `in (${line.id})`,
      ),
    );
    for (const end of ["a", "b"] as const) {
      const point = line[end];
      group.append(
        svg(
          "circle",
          {
            class: "handle",
            cx: point.x,
            cy: point.y,
            r: radius,
            "data-handle": end,
            "data-key": line.key,
          },
          svg("title", {}, `Point ${end.toUpperCase()}: drag to move`),
        ),
        svg(
          "text",
          {
            class: "end-label",
            x: point.x + radius * 1.4,
            y: point.y - radius * 1.4,
            "font-size": radius * 2.6,
          },
          end.toUpperCase(),
        ),
      );
    }
    return group;
  }

  private renderDrawing(radius: number): SVGGElement {
    const points = this.cursor === null ? this.drawing : [...this.drawing, this.cursor];
    const group = svg("g", {
      class: "drawing",
      "data-testid": "roi-drawing",
      "data-points": this.drawing.length,
    });
    group.append(svg("polyline", { points: pointsAttribute(points) }));
    this.drawing.forEach((point, index) => {
      group.append(
        svg("circle", {
          class:
            index === 0 && this.mode === "zone" && this.drawing.length >= 3
              ? "handle closing"
              : "handle",
          cx: point.x,
          cy: point.y,
          r: radius,
        }),
      );
    });
    return group;
  }
}
