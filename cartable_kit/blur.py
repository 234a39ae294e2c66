"""Faces out of frame: every face on the class camera is blurred before encoding, with
OpenCV's Haar cascade shipped inside opencv-python-headless (cv2.data.haarcascades, pinned
below 5 in pyproject: nothing is downloaded at run time). It fails closed: a detector that
cannot be loaded or that fails on a frame withholds the frame (``None``), so the class camera
sends nothing and the teacher is told (kit_state blur "unavailable", camera "withheld")."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

log = logging.getLogger("cartable_kit.blur")

CASCADE = "haarcascade_frontalface_default.xml"
WITHHELD = "Visages non floutés : image de la classe retenue"


class DetectorUnavailable(Exception):
    pass


class FaceDetector:
    def __init__(self, scale: float = 1.0):
        try:
            import cv2

            path = cv2.data.haarcascades + CASCADE
            cascade = cv2.CascadeClassifier(path)
        except Exception as exc:  # no OpenCV, no bundled data
            raise DetectorUnavailable(str(exc)) from exc
        if cascade.empty():
            raise DetectorUnavailable(f"cascade not loaded: {CASCADE}")
        self.cv2, self.cascade, self.scale = cv2, cascade, scale

    def faces(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Faces as (x, y, w, h) in the image's pixels."""
        cv2 = self.cv2
        small = cv2.resize(image, None, fx=self.scale, fy=self.scale)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        found = self.cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=4, minSize=(16, 16)
        )
        return [tuple(int(v / self.scale) for v in face) for face in found]


def pixelate(image: np.ndarray, x: int, y: int, w: int, h: int, *, margin=0.5, blocks=6):
    """Replace a region by a few large blocks: no face can be told from it."""
    height, width = image.shape[:2]
    dx, dy = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(width, x + w + dx), min(height, y + h + dy)
    region = image[y0:y1, x0:x1]
    if region.size == 0:
        return
    bh, bw = max(1, region.shape[0] // blocks), max(1, region.shape[1] // blocks)
    for by in range(0, region.shape[0], bh):
        for bx in range(0, region.shape[1], bw):
            cell = region[by : by + bh, bx : bx + bw]
            cell[...] = cell.reshape(-1, cell.shape[-1]).mean(axis=0).astype(image.dtype)


class FaceBlur:
    """The class camera's processing when classmates must stay out of frame.

    A Haar detection on a 1280x720 picture takes a few hundred milliseconds on one core, so
    by default (``sync=False``) it runs in a thread of its own on the newest picture, again
    and again, and every picture is blurred where the latest detection found faces (with a
    wide margin). A picture is withheld (``None``) while no detection younger than
    ``max_age_s`` is known: at the start, and if the detector falls behind or fails.
    ``sync=True`` detects on every picture before it is sent (tests).
    """

    def __init__(self, detector_factory=FaceDetector, *, sync: bool = False, max_age_s=1.0):
        self.sync, self.max_age_s = sync, max_age_s
        self.boxes: list = []
        self.detected_at = float("-inf")
        self.busy = False
        self.lock = threading.Lock()
        try:
            self.detector = detector_factory()
            self.available = True
        except DetectorUnavailable as exc:
            log.error("face detector unavailable: %s: the class camera is withheld", exc)
            self.detector, self.available = None, False

    def _detect(self, image: np.ndarray, stamp: float):
        try:
            boxes = self.detector.faces(image)
        except Exception as exc:  # fail closed: no fresh detection, pictures withheld
            log.error("face detection failed: %s", exc)
            boxes = None
        with self.lock:
            self.busy = False
            if boxes is not None:
                self.boxes, self.detected_at = boxes, stamp

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        if not self.available:
            return None
        now = time.monotonic()
        if self.sync:
            self._detect(image, now)
            if self.detected_at != now:
                return None
        else:
            with self.lock:
                start = not self.busy
                self.busy = self.busy or start
            if start:
                threading.Thread(target=self._detect, args=(image.copy(), now), daemon=True).start()
        with self.lock:
            boxes, fresh = self.boxes, now - self.detected_at <= self.max_age_s
        if not fresh:
            return None
        for face in boxes:
            pixelate(image, *face)
        return image


def mask_zone(image: np.ndarray, zone: dict | None) -> np.ndarray:
    """Paint over the zone the teacher masked (fractions of the picture)."""
    if not zone:
        return image
    height, width = image.shape[:2]
    x0, y0 = int(zone["x"] * width), int(zone["y"] * height)
    x1 = min(width, x0 + int(zone["w"] * width))
    y1 = min(height, y0 + int(zone["h"] * height))
    image[y0:y1, x0:x1] = 48
    return image
