"""Faces out of frame: every face on the class camera is blurred before encoding, with
OpenCV's Haar cascade shipped inside opencv-python-headless (cv2.data.haarcascades, pinned
below 5 in pyproject: nothing is downloaded at run time). It fails closed: a detector that
cannot be loaded or that fails on a frame withholds the frame (``None``), so the class camera
sends nothing and the teacher is told (kit_state blur "unavailable", camera "withheld")."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("cartable_kit.blur")

CASCADE = "haarcascade_frontalface_default.xml"
WITHHELD = "Visages non floutés : image de la classe retenue"


class DetectorUnavailable(Exception):
    pass


class FaceDetector:
    def __init__(self, scale: float = 0.5):
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


def pixelate(image: np.ndarray, x: int, y: int, w: int, h: int, *, margin=0.25, blocks=6):
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
    """The class camera's processing when classmates must stay out of frame."""

    def __init__(self, detector_factory=FaceDetector):
        try:
            self.detector = detector_factory()
            self.available = True
        except DetectorUnavailable as exc:
            log.error("face detector unavailable: %s: the class camera is withheld", exc)
            self.detector, self.available = None, False

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        if not self.available:
            return None
        try:
            faces = self.detector.faces(image)
        except Exception as exc:  # fail closed on a frame too
            log.error("face detection failed: %s", exc)
            return None
        for face in faces:
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
