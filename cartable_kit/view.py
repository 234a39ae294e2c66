"""The pupil's view of the class camera, as the browser station computes it (view.js):
the view is a centre (x, y, fractions of the picture) and a zoom; the kit crops it out of
the camera's picture and scales it to the size sent (or moves a UVC camera's optics)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTPUT_ASPECT = 16 / 9
MAX_ZOOM = 4.0
WHOLE_CLASS = {"id": "toute-la-classe", "name": "Toute la classe", "x": 0.5, "y": 0.5, "zoom": 1}


def _clamp(value, low, high):
    return min(high, max(low, value))


def region_size(zoom: float, aspect: float = OUTPUT_ASPECT) -> tuple[float, float]:
    width = OUTPUT_ASPECT / aspect if aspect >= OUTPUT_ASPECT else 1
    height = 1 if aspect >= OUTPUT_ASPECT else aspect / OUTPUT_ASPECT
    return width / zoom, height / zoom


@dataclass
class View:
    x: float = 0.5
    y: float = 0.5
    zoom: float = 1.0

    def clamped(self, max_zoom: float = MAX_ZOOM, aspect: float = OUTPUT_ASPECT) -> View:
        zoom = _clamp(self.zoom, 1, max_zoom)
        w, h = region_size(zoom, aspect)
        return View(_clamp(self.x, w / 2, 1 - w / 2), _clamp(self.y, h / 2, 1 - h / 2), zoom)


def crop(image: np.ndarray, view: View, out_w: int, out_h: int) -> np.ndarray:
    """The view's region of ``image``, scaled to out_w x out_h."""
    height, width = image.shape[:2]
    v = view.clamped(aspect=width / height)
    if v.zoom == 1 and width == out_w and height == out_h:
        return image
    rw, rh = region_size(v.zoom, width / height)
    w, h = max(2, int(rw * width)), max(2, int(rh * height))
    x = int(_clamp(v.x * width - w / 2, 0, width - w))
    y = int(_clamp(v.y * height - h / 2, 0, height - h))
    import cv2

    return cv2.resize(image[y : y + h, x : x + w], (out_w, out_h), interpolation=cv2.INTER_LINEAR)
