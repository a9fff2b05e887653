"""Person detection with Ultralytics YOLO and tracking with Ultralytics' ByteTrack.

Each camera calls ``predict()`` and feeds the boxes to its own ``BYTETracker``, the
tracker that ``model.track()`` runs internally. The pipeline thus owns the tracker
state explicitly instead of keeping it in the model's callbacks.

Ultralytics objects are not safe to share between threads, so each camera pipeline
owns one ``PersonDetector`` and one ``PersonTracker``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from edge.analytics.tracks import TrackedPerson

log = structlog.get_logger(__name__)

# Ultralytics decides at import time whether it may reach the network.
os.environ["YOLO_OFFLINE"] = "1"

PERSON_CLASS_NAME = "person"
WARM_UP_SIZE = 320
# Ultralytics' ByteTrack defaults (ultralytics/cfg/trackers/bytetrack.yaml, 8.4).
BYTETRACK_DEFAULTS: dict[str, Any] = {
    "tracker_type": "bytetrack",
    "track_high_thresh": 0.25,
    "track_low_thresh": 0.1,
    "new_track_thresh": 0.25,
    # Frames a lost track is kept for re-identification.
    "track_buffer": 30,
    "match_thresh": 0.8,
    "fuse_score": True,
}


class DetectorError(RuntimeError):
    """The model cannot be loaded or run."""


class PersonDetector:
    """A YOLO model loaded from a local path that returns person boxes only."""

    def __init__(
        self,
        model_path: Path,
        *,
        confidence: float = 0.25,
        iou: float = 0.7,
        image_size: int = 640,
        device: str = "cpu",
    ) -> None:
        self._model_path = Path(model_path)
        self._predict_options = {
            "conf": confidence,
            "iou": iou,
            "imgsz": image_size,
            "device": device,
            "verbose": False,
        }
        self._model = _load_model(self._model_path)
        # One inference on a blank image reads the class names without a second
        # load of the model, which ``YOLO.names`` does for exported models. It also
        # makes a bad device or a broken export fail here, before any camera starts.
        blank = np.zeros((WARM_UP_SIZE, WARM_UP_SIZE, 3), dtype=np.uint8)
        names = _first_inference(self._model, blank, self._predict_options, model_path)
        self._person_class = _person_class_index(names, self._model_path)
        self._predict_options["classes"] = [self._person_class]

    @classmethod
    def from_settings(cls, settings) -> PersonDetector:
        """Build from ``edge.config.ModelSettings``."""
        return cls(
            settings.path,
            confidence=settings.confidence,
            iou=settings.iou,
            image_size=settings.image_size,
            device=settings.device,
        )

    def detect(self, image: np.ndarray):
        """Return the person boxes of one BGR image as Ultralytics ``Boxes`` (numpy)."""
        return self._predict(image)[0].boxes.cpu().numpy()

    def _predict(self, image: np.ndarray):
        try:
            return self._model.predict(image, **self._predict_options)
        except (RuntimeError, ValueError, TypeError, OSError) as error:
            raise DetectorError(
                f"inference with {self._model_path} failed: {error}"
            ) from error


class PersonTracker:
    """ByteTrack over one camera's frames; track ids start at 1 per tracker."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        arguments = {**BYTETRACK_DEFAULTS, **(overrides or {})}
        self._tracker = BYTETracker(IterableSimpleNamespace(**arguments))

    def update(self, boxes, image: np.ndarray) -> list[TrackedPerson]:
        """Feed one frame's detections and return the confirmed tracks in it."""
        rows = self._tracker.update(boxes, image)
        people = []
        for row in rows:
            x1, y1, x2, y2, track_id, score = (float(value) for value in row[:6])
            people.append(
                TrackedPerson(
                    track_id=int(track_id),
                    box=(x1, y1, x2, y2),
                    confidence=score,
                )
            )
        return people

    def reset(self) -> None:
        """Forget every track, e.g. after a stream reconnects with a jump in time."""
        self._tracker.reset()


def _load_model(path: Path):
    if not path.exists():
        raise DetectorError(
            f"model {path} does not exist: give the path of a local Ultralytics "
            "export (.pt, .onnx or an _openvino_model folder); nothing is downloaded"
        )
    from ultralytics import YOLO

    log.info("model_loading", model=str(path))
    try:
        model = YOLO(str(path), task="detect")
    except (RuntimeError, ValueError, TypeError, OSError, KeyError) as error:
        raise DetectorError(f"cannot load model {path}: {error}") from error
    log.info("model_loaded", model=str(path))
    return model


def _first_inference(model, image: np.ndarray, options: dict, path: Path):
    """Run the first inference, which loads the backend; return the class names."""
    try:
        return model.predict(image, **options)[0].names
    except ImportError as error:
        # Ultralytics imports a backend's package (e.g. onnxruntime for .onnx) only
        # when the model first runs, and YOLO_OFFLINE keeps it from installing it.
        raise DetectorError(
            f"cannot load model {path}: its backend needs the Python package "
            f"{error.name or error}; install it with pip"
        ) from error
    except Exception as error:
        # Exported models fail here in many ways (an empty OpenVINO folder raises
        # StopIteration, a corrupt file a backend-specific error), so anything
        # raised becomes one DetectorError that names the model.
        raise DetectorError(
            f"cannot load model {path}: {type(error).__name__}: {error}; check that "
            "it is a complete Ultralytics export"
        ) from error


def _person_class_index(names, path: Path) -> int:
    items = names.items() if isinstance(names, dict) else enumerate(names)
    for index, name in items:
        if name == PERSON_CLASS_NAME:
            return int(index)
    raise DetectorError(
        f"model {path} has no {PERSON_CLASS_NAME!r} class: use a model trained on "
        "COCO (class 0 is person)"
    )
