#!/usr/bin/env bash
# Regenerate generated/ from protos/. Run from anywhere; uses the project's Python.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
out=$root/generated
rm -rf "$out/dalevision"
mkdir -p "$out"
mapfile -t files < <(cd "$root/protos" && find . -name '*.proto' | sed 's|^\./||' | sort)
"$python" -m grpc_tools.protoc -I "$root/protos" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" "${files[@]}"
# Regular packages, so setuptools finds them and imports are absolute.
find "$out/dalevision" -type d -exec touch {}/__init__.py \;
