// The ROI being edited: zones and lines in image pixels, conversion to and from
// the `dalevision.edge.v1.CameraRoi` message, and the checks made before a push.
// The cloud and the agent validate again, so these checks only catch mistakes early.

import { create } from "@bufbuild/protobuf";

import {
  type CameraRoi,
  CameraRoiSchema,
  LineSchema,
  LineSide,
  PointSchema,
  RoiParametersSchema,
  ZoneKind,
  ZoneSchema,
} from "./gen/dalevision/edge/v1/config_pb";

export interface Point {
  x: number;
  y: number;
}

export interface ZoneShape {
  type: "zone";
  /** Stable key of the shape within the editor, because ids may be renamed. */
  key: number;
  id: string;
  name: string;
  kind: ZoneKind;
  polygon: Point[];
  /** Maximum people allowed, or 0 for no capacity rule. */
  capacity: number;
  /** For checkout customer zones: the staff zone that serves it, or "". */
  staffZoneId: string;
}

export interface LineShape {
  type: "line";
  key: number;
  id: string;
  name: string;
  a: Point;
  b: Point;
  inSide: LineSide;
  cooldownSeconds: number;
}

export type Shape = ZoneShape | LineShape;

export interface RoiParameters {
  checkoutDwellSeconds: number;
  checkoutFailsafeSeconds: number;
  minDwellSeconds: number;
}

export interface RoiDraft {
  shapes: Shape[];
  parameters: RoiParameters;
}

export interface Problem {
  /** Key of the shape at fault, or null for the parameters. */
  key: number | null;
  message: string;
}

// The edge agent's defaults for an ROI without parameters.
export const DEFAULT_PARAMETERS: RoiParameters = {
  checkoutDwellSeconds: 10,
  checkoutFailsafeSeconds: 300,
  minDwellSeconds: 2,
};

// Ids end up in alert and receipt ids and 64-character database columns.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MAX_NAME_LENGTH = 200;
const MAX_POLYGON_VERTICES = 256;
const MIN_LINE_LENGTH_PIXELS = 1;

export const ZONE_KINDS: ReadonlyArray<readonly [ZoneKind, string]> = [
  [ZoneKind.QUEUE, "Queue"],
  [ZoneKind.CHECKOUT_CUSTOMER, "Checkout (customer side)"],
  [ZoneKind.CHECKOUT_STAFF, "Checkout (staff side)"],
  [ZoneKind.ENTRANCE, "Entrance"],
  [ZoneKind.AREA, "Area"],
];

let lastKey = 0;

export function newKey(): number {
  lastKey += 1;
  return lastKey;
}

/** Return "prefix-N" with the smallest N not used by another shape. */
export function nextId(prefix: string, shapes: ReadonlyArray<Shape>): string {
  const used = new Set(shapes.map((shape) => shape.id));
  for (let number = 1; ; number += 1) {
    const id = `${prefix}-${number}`;
    if (!used.has(id)) {
      return id;
    }
  }
}

function pointOf(point: { x: number; y: number } | undefined): Point {
  return { x: point?.x ?? 0, y: point?.y ?? 0 };
}

export function draftFromProto(roi: CameraRoi | undefined): RoiDraft {
  const shapes: Shape[] = [];
  for (const zone of roi?.zones ?? []) {
    shapes.push({
      type: "zone",
      key: newKey(),
      id: zone.id,
      name: zone.name,
      kind: zone.kind === ZoneKind.UNSPECIFIED ? ZoneKind.AREA : zone.kind,
      polygon: zone.polygon.map(pointOf),
      capacity: zone.capacity,
      staffZoneId: zone.staffZoneId,
    });
  }
  for (const line of roi?.lines ?? []) {
    shapes.push({
      type: "line",
      key: newKey(),
      id: line.id,
      name: line.name,
      a: pointOf(line.a),
      b: pointOf(line.b),
      inSide: line.inSide === LineSide.UNSPECIFIED ? LineSide.RIGHT : line.inSide,
      cooldownSeconds: line.cooldownSeconds,
    });
  }
  const parameters = roi?.parameters;
  return {
    shapes,
    parameters:
      parameters === undefined
        ? { ...DEFAULT_PARAMETERS }
        : {
            checkoutDwellSeconds: parameters.checkoutDwellSeconds,
            checkoutFailsafeSeconds: parameters.checkoutFailsafeSeconds,
            minDwellSeconds: parameters.minDwellSeconds,
          },
  };
}

export function draftToProto(
  draft: RoiDraft,
  cameraId: string,
  frameWidth: number,
  frameHeight: number,
): CameraRoi {
  const point = (p: Point) => create(PointSchema, { x: p.x, y: p.y });
  const roi = create(CameraRoiSchema, {
    cameraId,
    frameWidth,
    frameHeight,
    parameters: create(RoiParametersSchema, draft.parameters),
  });
  for (const shape of draft.shapes) {
    if (shape.type === "zone") {
      roi.zones.push(
        create(ZoneSchema, {
          id: shape.id,
          name: shape.name,
          kind: shape.kind,
          polygon: shape.polygon.map(point),
          capacity: shape.capacity,
          staffZoneId: shape.kind === ZoneKind.CHECKOUT_CUSTOMER ? shape.staffZoneId : "",
        }),
      );
    } else {
      roi.lines.push(
        create(LineSchema, {
          id: shape.id,
          name: shape.name,
          a: point(shape.a),
          b: point(shape.b),
          inSide: shape.inSide,
          cooldownSeconds: shape.cooldownSeconds,
        }),
      );
    }
  }
  return roi;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

function between(value: number, end1: number, end2: number): boolean {
  return Math.min(end1, end2) <= value && value <= Math.max(end1, end2);
}

// True when q lies on the segment p1-p2, given that the three are collinear.
function onSegment(p1: Point, p2: Point, q: Point): boolean {
  return between(q.x, p1.x, p2.x) && between(q.y, p1.y, p2.y);
}

/** Tell whether the closed segments p1-p2 and q1-q2 share at least one point. */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = Math.sign(cross(q1, q2, p1));
  const d2 = Math.sign(cross(q1, q2, p2));
  const d3 = Math.sign(cross(p1, p2, q1));
  const d4 = Math.sign(cross(p1, p2, q2));
  if (d1 * d2 < 0 && d3 * d4 < 0) {
    return true;
  }
  return (
    (d1 === 0 && onSegment(q1, q2, p1)) ||
    (d2 === 0 && onSegment(q1, q2, p2)) ||
    (d3 === 0 && onSegment(p1, p2, q1)) ||
    (d4 === 0 && onSegment(p1, p2, q2))
  );
}

/**
 * Return the indexes of two edges of a closed polygon that cross, or null. Edge i
 * runs from vertex i to vertex i + 1. Neighbouring edges share a vertex, which
 * does not count, unless one folds back along the other.
 */
export function findSelfCrossing(polygon: ReadonlyArray<Point>): [number, number] | null {
  const count = polygon.length;
  for (let i = 0; i < count; i += 1) {
    const a1 = polygon[i];
    const a2 = polygon[(i + 1) % count];
    for (let j = i + 1; j < count; j += 1) {
      const b1 = polygon[j];
      const b2 = polygon[(j + 1) % count];
      const neighbours = j === i + 1 || (i === 0 && j === count - 1);
      if (!neighbours) {
        if (segmentsIntersect(a1, a2, b1, b2)) {
          return [i, j];
        }
        continue;
      }
      const shared = j === i + 1 ? a2 : a1;
      const freeA = shared === a2 ? a1 : a2;
      const freeB = shared === b1 ? b2 : b1;
      const folds =
        cross(shared, freeA, freeB) === 0 &&
        (freeA.x - shared.x) * (freeB.x - shared.x) + (freeA.y - shared.y) * (freeB.y - shared.y) >
          0;
      if (folds) {
        return [i, j];
      }
    }
  }
  return null;
}

function polygonArea(polygon: ReadonlyArray<Point>): number {
  let total = 0;
  polygon.forEach((point, index) => {
    const next = polygon[(index + 1) % polygon.length];
    total += point.x * next.y - next.x * point.y;
  });
  return total / 2;
}

function outside(point: Point, width: number, height: number): boolean {
  return (
    point.x < 0 || point.y < 0 || (width > 0 && point.x > width) || (height > 0 && point.y > height)
  );
}

function checkCommon(shape: Shape, label: string, problems: Problem[]): void {
  if (!ID_PATTERN.test(shape.id)) {
    problems.push({
      key: shape.key,
      message:
        `${label}: invalid id "${shape.id}": use 1 to 64 letters, digits, ".", "_", ":" ` +
        `or "-", starting with a letter or digit`,
    });
  }
  if (shape.name.length > MAX_NAME_LENGTH) {
    problems.push({
      key: shape.key,
      message: `${label}: name is longer than ${MAX_NAME_LENGTH} characters`,
    });
  }
}

function checkZone(
  zone: ZoneShape,
  draft: RoiDraft,
  width: number,
  height: number,
  problems: Problem[],
): void {
  const label = `zone ${zone.id}`;
  checkCommon(zone, label, problems);
  if (zone.polygon.length < 3) {
    problems.push({
      key: zone.key,
      message: `${label}: a polygon needs at least 3 points, it has ${zone.polygon.length}`,
    });
    return;
  }
  if (zone.polygon.length > MAX_POLYGON_VERTICES) {
    problems.push({
      key: zone.key,
      message: `${label}: use at most ${MAX_POLYGON_VERTICES} points`,
    });
  }
  const crossing = findSelfCrossing(zone.polygon);
  if (crossing !== null) {
    problems.push({
      key: zone.key,
      message: `${label}: edges ${crossing[0]} and ${crossing[1]} cross; move the points so the outline does not cross itself`,
    });
  } else if (polygonArea(zone.polygon) === 0) {
    problems.push({ key: zone.key, message: `${label}: the polygon has zero area` });
  }
  if (zone.polygon.some((point) => outside(point, width, height))) {
    problems.push({
      key: zone.key,
      message: `${label}: a point lies outside the ${width}×${height} frame`,
    });
  }
  if (!Number.isInteger(zone.capacity) || zone.capacity < 0) {
    problems.push({
      key: zone.key,
      message: `${label}: capacity must be a whole number ≥ 0 (0 for none)`,
    });
  }
  if (zone.kind === ZoneKind.CHECKOUT_CUSTOMER && zone.staffZoneId !== "") {
    const staff = draft.shapes.find(
      (shape) => shape.type === "zone" && shape.id === zone.staffZoneId,
    );
    if (staff === undefined || (staff as ZoneShape).kind !== ZoneKind.CHECKOUT_STAFF) {
      problems.push({
        key: zone.key,
        message: `${label}: staff zone "${zone.staffZoneId}" is not a checkout staff zone of this camera`,
      });
    }
  }
}

function checkLine(line: LineShape, width: number, height: number, problems: Problem[]): void {
  const label = `line ${line.id}`;
  checkCommon(line, label, problems);
  if (Math.hypot(line.b.x - line.a.x, line.b.y - line.a.y) < MIN_LINE_LENGTH_PIXELS) {
    problems.push({
      key: line.key,
      message: `${label}: the two points must be at least ${MIN_LINE_LENGTH_PIXELS} px apart`,
    });
  }
  if (outside(line.a, width, height) || outside(line.b, width, height)) {
    problems.push({
      key: line.key,
      message: `${label}: a point lies outside the ${width}×${height} frame`,
    });
  }
  if (!(line.cooldownSeconds >= 0)) {
    problems.push({ key: line.key, message: `${label}: cooldown must be a number ≥ 0 seconds` });
  }
}

function checkParameters(parameters: RoiParameters, problems: Problem[]): void {
  const { checkoutDwellSeconds, checkoutFailsafeSeconds, minDwellSeconds } = parameters;
  if (!(checkoutDwellSeconds >= 0) || !(minDwellSeconds >= 0)) {
    problems.push({
      key: null,
      message: "checkout dwell and minimum dwell must be numbers ≥ 0 seconds",
    });
  }
  if (!(checkoutFailsafeSeconds > 0) || checkoutFailsafeSeconds < checkoutDwellSeconds) {
    problems.push({
      key: null,
      message: "checkout failsafe must be greater than 0 and at least the checkout dwell",
    });
  }
}

/** List what is wrong with the draft. An empty list means it may be pushed. */
export function validateDraft(draft: RoiDraft, frameWidth: number, frameHeight: number): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  for (const shape of draft.shapes) {
    const kindKey = `${shape.type}:${shape.id}`;
    if (seen.has(kindKey)) {
      problems.push({
        key: shape.key,
        message: `${shape.type} id "${shape.id}" is used twice: give each shape its own id`,
      });
    }
    seen.set(kindKey, shape.key);
    if (shape.type === "zone") {
      checkZone(shape, draft, frameWidth, frameHeight, problems);
    } else {
      checkLine(shape, frameWidth, frameHeight, problems);
    }
  }
  checkParameters(draft.parameters, problems);
  return problems;
}

/**
 * Return the unit normal of the line a -> b that points to `side`, in image
 * coordinates (y grows downwards). RIGHT is on the right hand of someone walking
 * from a to b on the screen.
 */
export function sideNormal(a: Point, b: Point, side: LineSide): Point {
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const right = { x: -(b.y - a.y) / length, y: (b.x - a.x) / length };
  return side === LineSide.LEFT ? { x: -right.x, y: -right.y } : right;
}
