#!/usr/bin/env bash
# Build the operator UI into web_bridge/static/app.js. The steps: install the
# pinned npm packages, generate TypeScript from protos/, type-check, check the
# formatting, run the unit tests and bundle with esbuild. The hashes of the inputs
# go to web_bridge/static/app.js.inputs, which the Python tests compare without
# Node.
#
#   scripts/build_ui.sh           build and write web_bridge/static/app.js
#   scripts/build_ui.sh --check   build into a temporary file and fail unless it
#                                 equals the committed bundle
#
# Needs Node 20+ and npm with access to the npm registry (or its cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ui=$root/web_bridge/ui
static=$root/web_bridge/static
python=${PYTHON:-$root/.venv/bin/python}
buf=${BUF:-$root/.venv/bin/buf}
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# esbuild's postinstall script only re-checks the platform binary that npm has
# already installed as an optional dependency, so scripts can stay off.
(cd "$ui" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)

cd "$root"
rm -rf "$ui/src/gen"
"$buf" generate --template web_bridge/ui/buf.gen.yaml \
  --path protos/dalevision/ops --path protos/dalevision/edge/v1/config.proto
"$ui/node_modules/.bin/tsc" -p "$ui"
"$ui/node_modules/.bin/tsc" -p "$ui/test"
(cd "$ui" && npm run --silent check-format && npm test --silent >/dev/null) || {
  echo "UI format check or unit tests failed: run 'npm run format' or 'npm test' in $ui" >&2
  exit 1
}

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
out=$static/app.js
if $check; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  out=$tmp/app.js
fi
"$ui/node_modules/.bin/esbuild" "$ui/src/main.ts" --bundle --format=esm \
  --target=es2022 --minify --legal-comments=eof --log-level=warning \
  --banner:js="$banner" --outfile="$out"

if $check; then
  if ! cmp -s "$out" "$static/app.js"; then
    echo "web_bridge/static/app.js differs from a fresh build: run scripts/build_ui.sh" \
      "and commit web_bridge/static" >&2
    exit 1
  fi
  "$python" "$ui/bundle_stamp.py" check
  echo "web_bridge/static/app.js matches its sources"
else
  "$python" "$ui/bundle_stamp.py" write
  echo "built $out ($(wc -c <"$out") bytes)"
fi
