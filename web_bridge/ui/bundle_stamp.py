"""Record or check the hashes of the files the UI bundle is built from.

``scripts/build_ui.sh`` runs ``bundle_stamp.py write`` after bundling, which lists
the SHA-256 of every input in ``web_bridge/static/app.js.inputs`` (of .proto files
without their comments). ``bundle_stamp.py
check`` (run by the tests) exits 1 and names the files that changed since, so a
committed bundle cannot silently fall behind its TypeScript sources or protos.
The check needs neither Node nor npm.
"""

import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAMP = ROOT / "web_bridge" / "static" / "app.js.inputs"
UI = ROOT / "web_bridge" / "ui"
# Made by the build from the protos, which are listed themselves.
GENERATED = UI / "src" / "gen"


def input_files() -> list[Path]:
    """Return every file whose content goes into app.js, sorted."""
    files = [
        UI / "package.json",
        UI / "package-lock.json",
        UI / "tsconfig.json",
        UI / "buf.gen.yaml",
        ROOT / "scripts" / "build_ui.sh",
        ROOT / "protos" / "dalevision" / "edge" / "v1" / "config.proto",
    ]
    files += (ROOT / "protos" / "dalevision" / "ops").rglob("*.proto")
    files += (
        path
        for path in (UI / "src").rglob("*.ts")
        if not path.is_relative_to(GENERATED)
    )
    return sorted(files)


# Comments and layout of a .proto file do not reach the bundle, which embeds
# descriptors without source info, so they are left out of its hash.
_PROTO_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def content_hash(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".proto":
        text = _PROTO_COMMENT.sub(" ", data.decode("utf-8"))
        data = " ".join(text.split()).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def current_hashes() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): content_hash(path) for path in input_files()
    }


def stamped_hashes() -> dict[str, str]:
    hashes = {}
    for line in STAMP.read_text().splitlines():
        digest, _, name = line.partition("  ")
        hashes[name] = digest
    return hashes


def write() -> None:
    lines = [f"{digest}  {name}" for name, digest in current_hashes().items()]
    STAMP.write_text("\n".join(lines) + "\n")


def stale_inputs() -> list[str]:
    """Return a line per input that differs from the stamp; empty when fresh."""
    if not STAMP.exists():
        return [f"{STAMP.relative_to(ROOT)} is missing"]
    current = current_hashes()
    stamped = stamped_hashes()
    problems = []
    for name in sorted(current.keys() | stamped.keys()):
        if name not in stamped:
            problems.append(f"{name} was added")
        elif name not in current:
            problems.append(f"{name} was removed")
        elif current[name] != stamped[name]:
            problems.append(f"{name} changed")
    return problems


def main(argv: list[str]) -> int:
    if argv == ["write"]:
        write()
        return 0
    if argv == ["check"]:
        problems = stale_inputs()
        if not problems:
            return 0
        for problem in problems:
            print(problem, file=sys.stderr)
        print(
            "web_bridge/static/app.js is stale: run scripts/build_ui.sh and commit "
            "web_bridge/static",
            file=sys.stderr,
        )
        return 1
    print("usage: bundle_stamp.py write|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
