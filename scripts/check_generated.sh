#!/usr/bin/env bash
# Fail when generated/ differs from what protos/ generate now.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/generated" "$tmp/before"
"$root/scripts/gen_protos.sh"
if ! diff -r "$tmp/before" "$root/generated" >/dev/null; then
  diff -r "$tmp/before" "$root/generated" | head -20
  echo "generated/ is stale: run scripts/gen_protos.sh and commit the result" >&2
  exit 1
fi
