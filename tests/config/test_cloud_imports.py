"""The cloud reuses the agent's ROI validation without loading its vision stack."""

import subprocess
import sys

from config_harness import ROOT

VISION_MODULES = ("cv2", "ultralytics", "torch", "openvino")


def test_config_service_imports_no_vision_modules():
    script = (
        "import sys\n"
        "import cloud.ops.config_service\n"
        "import cloud.config_push.validation\n"
        f"print(sorted(m for m in {VISION_MODULES!r} if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
