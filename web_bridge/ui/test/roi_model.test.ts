import assert from "node:assert/strict";
import { test } from "node:test";

import { LineSide, ZoneKind } from "../src/gen/dalevision/edge/v1/config_pb";
import {
  DEFAULT_PARAMETERS,
  draftFromProto,
  draftToProto,
  findSelfCrossing,
  newKey,
  nextId,
  type Point,
  type RoiDraft,
  type Shape,
  sideNormal,
  validateDraft,
} from "../src/roi_model";

const square: Point[] = [
  { x: 0, y: 0 },
  { x: 10, y: 0 },
  { x: 10, y: 10 },
  { x: 0, y: 10 },
];

function zone(polygon: Point[], extra: Partial<Shape> = {}): Shape {
  return {
    type: "zone",
    key: newKey(),
    id: "zone-1",
    name: "",
    kind: ZoneKind.AREA,
    polygon,
    capacity: 0,
    staffZoneId: "",
    ...extra,
  } as Shape;
}

function line(a: Point, b: Point, extra: Partial<Shape> = {}): Shape {
  return {
    type: "line",
    key: newKey(),
    id: "line-1",
    name: "",
    a,
    b,
    inSide: LineSide.RIGHT,
    cooldownSeconds: 0,
    ...extra,
  } as Shape;
}

function draft(...shapes: Shape[]): RoiDraft {
  return { shapes, parameters: { ...DEFAULT_PARAMETERS } };
}

function messages(value: RoiDraft, width = 100, height = 100): string[] {
  return validateDraft(value, width, height).map((problem) => problem.message);
}

test("self-crossing polygons", () => {
  assert.equal(findSelfCrossing(square), null);
  const bowTie = [square[0], square[2], square[1], square[3]];
  assert.deepEqual(findSelfCrossing(bowTie), [0, 2]);
  // A corner on another edge touches it, which counts as crossing.
  const touching = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 5, y: 0 },
    { x: 5, y: 10 },
  ];
  assert.notEqual(findSelfCrossing(touching), null);
  // An edge folding back along its neighbour crosses too.
  const folded = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 4, y: 0 },
  ];
  assert.notEqual(findSelfCrossing(folded), null);
  const concave = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 5, y: 5 },
    { x: 10, y: 10 },
    { x: 0, y: 10 },
  ];
  assert.equal(findSelfCrossing(concave), null);
});

test("valid draft has no problems", () => {
  assert.deepEqual(messages(draft(zone(square), line({ x: 1, y: 1 }, { x: 50, y: 50 }))), []);
});

test("draft problems name the shape", () => {
  const cases: Array<[RoiDraft, string]> = [
    [draft(zone(square.slice(0, 2))), "at least 3 points"],
    [draft(zone([square[0], square[2], square[1], square[3]])), "cross"],
    [draft(zone(square.map((p) => ({ x: p.x * 20, y: p.y })))), "outside the 100×100 frame"],
    [draft(zone(square, { id: "-bad" })), 'invalid id "-bad"'],
    [draft(zone(square), zone(square)), "used twice"],
    [draft(zone(square, { capacity: 1.5 } as Partial<Shape>)), "capacity must be a whole number"],
    [draft(line({ x: 1, y: 1 }, { x: 1.5, y: 1 })), "at least 1 px apart"],
    [draft(line({ x: 1, y: 1 }, { x: 150, y: 1 })), "outside the 100×100 frame"],
    [
      draft(line({ x: 1, y: 1 }, { x: 50, y: 1 }, { cooldownSeconds: -1 } as Partial<Shape>)),
      "cooldown must be a number ≥ 0",
    ],
    [
      draft(
        zone(square, { kind: ZoneKind.CHECKOUT_CUSTOMER, staffZoneId: "till" } as Partial<Shape>),
      ),
      'staff zone "till"',
    ],
  ];
  for (const [value, expected] of cases) {
    const found = messages(value);
    assert.ok(
      found.some((message) => message.includes(expected)),
      `expected "${expected}" in ${JSON.stringify(found)}`,
    );
  }
});

test("parameters are checked", () => {
  const value = draft();
  value.parameters.checkoutFailsafeSeconds = 5;
  assert.match(messages(value).join(), /failsafe/);
  value.parameters = { ...DEFAULT_PARAMETERS, minDwellSeconds: Number.NaN };
  assert.match(messages(value).join(), /minimum dwell/);
});

test("unknown frame size skips the upper bound only", () => {
  const far = draft(zone(square.map((p) => ({ x: p.x * 100, y: p.y * 100 }))));
  assert.deepEqual(messages(far, 0, 0), []);
  const negative = draft(zone(square.map((p) => ({ x: p.x - 5, y: p.y }))));
  assert.match(messages(negative, 0, 0).join(), /outside/);
});

test("proto round trip keeps shapes and parameters", () => {
  const original = draft(
    zone(square, { kind: ZoneKind.QUEUE, capacity: 4, name: "Queue" } as Partial<Shape>),
    line({ x: 1, y: 2 }, { x: 30, y: 40 }, {
      inSide: LineSide.LEFT,
      cooldownSeconds: 2,
    } as Partial<Shape>),
  );
  const message = draftToProto(original, "cam-1", 768, 576);
  assert.equal(message.cameraId, "cam-1");
  assert.equal(message.frameWidth, 768);
  assert.equal(message.zones[0].polygon.length, 4);
  assert.equal(message.zones[0].capacity, 4);
  assert.equal(message.lines[0].inSide, LineSide.LEFT);
  assert.equal(message.parameters?.checkoutFailsafeSeconds, 300);
  const back = draftFromProto(message);
  const strip = (value: RoiDraft) => value.shapes.map(({ key: _key, ...rest }) => rest);
  assert.deepEqual(strip(back), strip(original));
  assert.deepEqual(back.parameters, original.parameters);
});

test("staff zone is sent only for checkout customer zones", () => {
  const value = draft(
    zone(square, { kind: ZoneKind.QUEUE, staffZoneId: "till" } as Partial<Shape>),
  );
  assert.equal(draftToProto(value, "cam-1", 0, 0).zones[0].staffZoneId, "");
});

test("empty ROI gets the agent's default parameters", () => {
  const value = draftFromProto(undefined);
  assert.deepEqual(value.shapes, []);
  assert.deepEqual(value.parameters, DEFAULT_PARAMETERS);
});

test("next id skips used ids", () => {
  const shapes = [
    zone(square, { id: "zone-1" } as Partial<Shape>),
    zone(square, { id: "zone-3" } as Partial<Shape>),
  ];
  assert.equal(nextId("zone", shapes), "zone-2");
  assert.equal(nextId("line", shapes), "line-1");
});

test("in side normal points right of a to b on screen", () => {
  // y grows downwards, so right of a walk to +x is +y (below the line).
  assert.deepEqual(sideNormal({ x: 0, y: 0 }, { x: 100, y: 0 }, LineSide.RIGHT), { x: -0, y: 1 });
  assert.deepEqual(sideNormal({ x: 0, y: 0 }, { x: 100, y: 0 }, LineSide.LEFT), { x: 0, y: -1 });
});
