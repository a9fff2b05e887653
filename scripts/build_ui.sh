#!/usr/bin/env bash
# Build the operator UI into web_bridge/static/app.js: install the pinned npm
# packages, generate TypeScript from protos/, type-check, bundle with esbuild, and
# record the hashes of the inputs (web_bridge/static/app.js.inputs) so the tests
# can tell when the committed bundle is stale. Needs Node 20+ and npm.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ui=$root/web_bridge/ui
static=$root/web_bridge/static
python=${PYTHON:-$root/.venv/bin/python}
buf=${BUF:-$root/.venv/bin/buf}

# esbuild's postinstall script only re-checks the platform binary that npm has
# already installed as an optional dependency, so scripts can stay off.
(cd "$ui" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

cd "$root"
rm -rf "$ui/src/gen"
"$buf" generate --template web_bridge/ui/buf.gen.yaml \
  --path protos/dalevision/ops --path protos/dalevision/edge/v1/config.proto
"$ui/node_modules/.bin/tsc" -p "$ui"

# The bundled packages ship no license files, so the bundle names them and
# their licenses in a comment.
banner=$(cd "$ui" && node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const read = (path) => JSON.parse(readFileSync(path, "utf8"));
  const names = Object.keys(read("package.json").dependencies).sort().map((name) => {
    const pkg = read(`node_modules/${name}/package.json`);
    return `${name} ${pkg.version} under ${pkg.license}`;
  });
  console.log(`/*! DALE Vision operator UI. Bundles ${names.join("; ")}. */`);
')
"$ui/node_modules/.bin/esbuild" "$ui/src/main.ts" --bundle --format=esm \
  --target=es2022 --minify --legal-comments=eof --log-level=warning \
  --banner:js="$banner" --outfile="$static/app.js"
"$python" "$ui/bundle_stamp.py" write
echo "built $static/app.js ($(wc -c <"$static/app.js") bytes)"
