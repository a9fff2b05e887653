import assert from "node:assert/strict";
import { test } from "node:test";

import { niceStep, runsOf } from "../src/chart";

test("runs split at gaps", () => {
  assert.deepEqual(runsOf([1, 2, null, 3, null, null, 4, 5, 6]), [[0, 1], [3], [6, 7, 8]]);
  assert.deepEqual(runsOf([null, null]), []);
  assert.deepEqual(runsOf([]), []);
  assert.deepEqual(runsOf([0, 0]), [[0, 1]]);
});

test("nice steps for axes", () => {
  assert.equal(niceStep(0, 4), 1);
  assert.equal(niceStep(8, 4), 2);
  assert.equal(niceStep(10, 4), 2.5);
  assert.equal(niceStep(17, 4), 5);
  assert.equal(niceStep(0.3, 4), 0.1);
  assert.equal(niceStep(900, 4), 250);
});
