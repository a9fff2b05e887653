// Bundles each test/*.test.ts with esbuild into a temporary directory and runs
// the bundles with Node's test runner. Needs src/gen, which build_ui.sh makes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const testDir = fileURLToPath(new URL(".", import.meta.url));
const entries = readdirSync(testDir)
  .filter((name) => name.endsWith(".test.ts"))
  .map((name) => join(testDir, name));
const outdir = mkdtempSync(join(tmpdir(), "dale-ui-tests-"));
try {
  await build({
    entryPoints: entries,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const bundles = readdirSync(outdir).map((name) => join(outdir, name));
  const result = spawnSync(process.execPath, ["--test", ...bundles], { stdio: "inherit" });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
