"""The kit's pictures and sound: cameras (V4L2 by stable path, through PyAV), synthetic
sources for tests (a test pattern, a video file), and the tracks aiortc sends.

A camera is opened only while a lesson is live and closed at its end; when a camera stops
delivering (unplugged), its track sends a black picture with a message and tries to open it
again until it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from pathlib import Path

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("cartable_kit.media")

VIDEO_CLOCK = 90_000
TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)


class TestPattern:
    """Colour bars with a moving block and the frame number: a synthetic camera."""

    __test__ = False  # not a pytest class

    def __init__(self, width=1280, height=720, fps=30, label="mire"):
        self.width, self.height, self.fps, self.label = width, height, fps, label
        bars = np.array(
            [
                [235, 235, 235],
                [235, 235, 16],
                [16, 235, 235],
                [16, 235, 16],
                [235, 16, 235],
                [235, 16, 16],
                [16, 16, 235],
                [16, 16, 16],
            ],
            dtype=np.uint8,
        )
        columns = np.repeat(bars, -(-width // len(bars)), axis=0)[:width]
        self.base = np.repeat(columns[None, :, :], height, axis=0)
        self.stopped = False  # tests: a camera unplugged

    def open(self):
        return self

    def close(self):
        pass

    def read(self, index: int) -> np.ndarray:
        if self.stopped:
            raise OSError("source stopped")
        image = self.base.copy()
        size = max(8, self.height // 8)
        x = (index * 8) % max(1, self.width - size)
        image[self.height - size :, x : x + size] = (255, 128, 0)
        return image

    def frame_at(self, index: int) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.read(index), format="rgb24")


class FileSource:
    """A video file through PyAV, looped: a synthetic camera with real content."""

    def __init__(self, path: str, width=1280, height=720, fps=30):
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.container = None
        self.frames = None
        self.stopped = False

    def open(self):
        self.container = av.open(self.path)
        self.frames = self.container.decode(video=0)
        return self

    def close(self):
        if self.container is not None:
            self.container.close()
            self.container = None

    def read(self, index: int) -> np.ndarray:
        if self.stopped:
            raise OSError("source stopped")
        if self.container is None:
            self.open()
        try:
            frame = next(self.frames)
        except StopIteration:
            self.close()
            self.open()
            frame = next(self.frames)
        return frame.to_ndarray(format="rgb24", width=self.width, height=self.height)


class V4L2Camera:
    """A USB camera by its stable path (/dev/v4l/by-id/...), through PyAV's v4l2 input."""

    def __init__(self, path: str, width=1280, height=720, fps=30):
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.container = None
        self.frames = None
        self.stopped = False

    def open(self):
        self.container = av.open(
            str(Path(self.path).resolve()),
            format="v4l2",
            options={
                "video_size": f"{self.width}x{self.height}",
                "framerate": str(self.fps),
                "input_format": "mjpeg",
            },
        )
        self.frames = self.container.decode(video=0)
        return self

    def close(self):
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.close()
            self.container = None

    def read(self, index: int) -> np.ndarray:
        if self.container is None:
            self.open()
        frame = next(self.frames)  # OSError / StopIteration when unplugged
        return frame.to_ndarray(format="rgb24", width=self.width, height=self.height)


def source_for(spec: str, *, width=1280, height=720, fps=30, label="mire"):
    """``test:`` (a test pattern), a path under /dev (a camera) or a video file."""
    if spec in ("test:", "test", "auto") or spec.startswith("test:"):
        return TestPattern(width, height, fps, label)
    if spec.startswith("/dev/"):
        return V4L2Camera(spec, width, height, fps)
    return FileSource(spec, width, height, fps)


def black_with_message(width: int, height: int, message: str) -> np.ndarray:
    """The picture sent while a camera is missing: black, with a message drawn in it."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    try:
        import cv2

        cv2.putText(
            image, message, (40, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2
        )
    except ImportError:
        image[height // 2 - 4 : height // 2 + 4, 40 : width - 40] = 255
    return image


class CameraTrack(MediaStreamTrack):
    """One camera as a video track: paced frames, processed (crop, blur, mask) by
    ``process``; black with a message while the camera is missing, paused or withheld."""

    kind = "video"

    def __init__(self, name: str, source, *, process=None, on_state=None):
        super().__init__()
        self.name = name
        self.source = source
        self.width, self.height, self.fps = source.width, source.height, source.fps
        self.process = process
        self.on_state = on_state or (lambda name, state: None)
        self.index = 0
        self.started_at = None
        self.state = "off"
        self.withheld: str | None = None  # a message: the picture is not sent
        self.retry_at = 0.0
        self.frames_sent = 0

    def _set_state(self, state: str):
        if state != self.state:
            self.state = state
            self.on_state(self.name, state)

    def _read(self) -> np.ndarray:
        now = time.monotonic()
        if self.state == "missing" and now < self.retry_at:
            return black_with_message(self.width, self.height, "Caméra débranchée")
        try:
            image = self.source.read(self.index)
        except (OSError, StopIteration, av.FFmpegError) as exc:
            if self.state != "missing":
                log.warning("camera %s lost: %s", self.name, exc)
            self.source.close()
            self.retry_at = now + 1.0
            self._set_state("missing")
            return black_with_message(self.width, self.height, "Caméra débranchée")
        self._set_state("ok")
        return image

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started_at is None:
            self.started_at = time.monotonic()
        due = self.started_at + self.index / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        image = await asyncio.to_thread(self._read)
        if self.process is not None and self.state == "ok":
            image = await asyncio.to_thread(self.process, image)
        if image is None:  # withheld (a detector that cannot run: fail closed)
            image = black_with_message(self.width, self.height, self.withheld or "")
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = int(self.index * VIDEO_CLOCK / self.fps)
        frame.time_base = TIME_BASE
        self.index += 1
        self.frames_sent += 1
        return frame

    def stop(self):
        super().stop()
        self.source.close()
