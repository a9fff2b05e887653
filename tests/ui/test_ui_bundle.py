"""The committed UI bundle matches its sources, and the UI's own unit tests pass."""

import re
import shutil
import subprocess
import sys

from ui_stack import REPO_ROOT, STATIC_DIR, missing

BUILD_TIMEOUT_SECONDS = 300


def test_bundle_inputs_match_stamp():
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "web_bridge" / "ui" / "bundle_stamp.py"),
            "check",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_index_loads_bundle_and_styles():
    index = (STATIC_DIR / "index.html").read_text()
    scripts = re.findall(r'<script type="module" src="([^"]+)"', index)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', index)
    assert scripts == ["app.js"]
    assert styles == ["app.css"]
    for name in scripts + styles:
        assert (STATIC_DIR / name).stat().st_size > 0
    assert 'id="app"' in index


def test_fresh_build_equals_committed_bundle():
    """Type-check, format check, TypeScript unit tests, and a byte-equal rebuild."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm are needed to rebuild the UI")
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "build_ui.sh"), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "matches its sources" in result.stdout
