"""A known picture for the class cameras: four coloured quadrants, as a Y4M file.

Chromium's ``--use-file-for-fake-video-capture=<file.y4m>`` plays such a file, in a loop, as
every fake camera. The picture is 1920x1080 by default (the « full resolution » the stills
and the class station's crop are checked against): red top left, green top right, blue
bottom left, yellow bottom right, with a thin dark grid every 96 pixels so the encoder has
detail to work on. Used by tests/e2e/test_view_steer.py and bench/steer_*.py.
"""

from __future__ import annotations

import random
from pathlib import Path

# BT.601 limited range, as Chromium reads an I420 frame.
COLOURS_YUV = {
    "red": (82, 90, 240),
    "green": (145, 54, 34),
    "blue": (41, 240, 110),
    "yellow": (210, 16, 146),
}
# Quadrant -> colour, and the RGB each colour is recognised by on the receiving side.
QUADRANTS = {
    "top_left": "red",
    "top_right": "green",
    "bottom_left": "blue",
    "bottom_right": "yellow",
}
COLOURS_RGB = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
}
GRID = 96
GRID_Y = 16


def write_y4m(
    path: Path, width: int = 1920, height: int = 1080, frames: int = 2, noise: bool = False
) -> Path:
    """Write the four-quadrant picture, ``frames`` frames at 30 fps, to ``path``.

    With ``noise``, each frame's luma gets its own random noise in its 3 low bits (±7 at
    most, like a camera sensor's): frames differ, so the encoder works as on a real camera,
    and a still does not compress to almost nothing. The colours stay recognisable."""
    if width % 4 or height % 4:
        raise ValueError("width and height must be multiples of 4")
    half_w, half_h = width // 2, height // 2

    def plane(channel: int, w: int, h: int, grid: int | None) -> bytes:
        hw, hh = w // 2, h // 2
        rows = []
        for top, (left_colour, right_colour) in (
            (True, (QUADRANTS["top_left"], QUADRANTS["top_right"])),
            (False, (QUADRANTS["bottom_left"], QUADRANTS["bottom_right"])),
        ):
            left = COLOURS_YUV[left_colour][channel]
            right = COLOURS_YUV[right_colour][channel]
            row = bytearray([left] * hw + [right] * (w - hw))
            lined = bytearray(row)
            if grid is not None:
                step = grid * w // width
                for x in range(0, w, step):
                    row[x : x + 2] = bytes([GRID_Y, GRID_Y])
                lined = bytearray([GRID_Y] * w)
            count = hh if top else h - hh
            for y in range(count):
                absolute = y if top else hh + y
                is_line = grid is not None and absolute % (grid * h // height) < 2
                rows.append(bytes(lined if is_line else row))
        return b"".join(rows)

    y = plane(0, width, height, GRID)
    u = plane(1, half_w, half_h, None)
    v = plane(2, half_w, half_h, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    low_bits = bytes(b & 7 for b in range(256))
    seeded = random.Random(1234)  # the same file each time
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            luma = y
            if noise:
                grain = seeded.randbytes(len(y)).translate(low_bits)
                mixed = int.from_bytes(y, "big") ^ int.from_bytes(grain, "big")
                luma = mixed.to_bytes(len(y), "big")
            out.write(b"FRAME\n" + luma + u + v)
    return path


# In a page: the share of each colour in a video element's current picture (sampled on a
# small canvas, each pixel given to the nearest colour when it is close enough).
COLOUR_SHARES_JS = """
(selector) => {
  const video = document.querySelector(selector);
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 36;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = __COLOURS__;
  const counts = Object.fromEntries(Object.keys(colours).map((k) => [k, 0]));
  const total = canvas.width * canvas.height;
  for (let i = 0; i < data.length; i += 4) {
    let best = null, bestDistance = 120 * 120 * 3;
    for (const [name, [r, g, b]] of Object.entries(colours)) {
      const d = (data[i] - r) ** 2 + (data[i + 1] - g) ** 2 + (data[i + 2] - b) ** 2;
      if (d < bestDistance) { bestDistance = d; best = name; }
    }
    if (best) counts[best] += 1;
  }
  for (const key of Object.keys(counts)) counts[key] = counts[key] / total;
  return { shares: counts, width: video.videoWidth, height: video.videoHeight };
}
""".replace("__COLOURS__", str({k: list(v) for k, v in COLOURS_RGB.items()}))
