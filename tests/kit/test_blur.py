"""Classmates out of frame: every face on the class camera is blurred before encoding, with
the Haar cascade bundled in opencv-python-headless; with no detector, nothing is sent.

The faces are the astronaut portrait shipped inside scikit-image (skimage.data, no
download), put twice, at two sizes, in a 1280x720 classroom picture."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from cartable_kit import blur
from cartable_kit.agent import AgentOptions
from cartable_kit.credential import Credential
from cartable_kit.live import KitLink
from cartable_kit.media import CameraTrack

data = pytest.importorskip("skimage.data")
cv2 = pytest.importorskip("cv2")


class Still:
    """A synthetic camera showing one picture."""

    def __init__(self, image):
        self.image = image
        self.height, self.width = image.shape[:2]
        self.fps = 30

    def read(self, index):
        return self.image.copy()

    def close(self):
        pass


@pytest.fixture(scope="module")
def classroom() -> np.ndarray:
    face = data.astronaut()
    picture = np.full((720, 1280, 3), 90, dtype=np.uint8)
    picture[100:612, 60:572] = face
    picture[200:456, 800:1056] = cv2.resize(face, (256, 256))
    return picture


@pytest.fixture(scope="module")
def judge():
    """A detector at full resolution, stricter than the kit's own, to look for faces."""
    return blur.FaceDetector(scale=1.0)


def test_the_classroom_picture_has_faces(classroom, judge):
    assert len(judge.faces(classroom)) >= 2


def test_sent_frames_have_no_detectable_face(classroom, judge):
    track = CameraTrack("class", Still(classroom), process=blur.FaceBlur(sync=True))

    async def frames():
        return [(await track.recv()).to_ndarray(format="rgb24") for _ in range(3)]

    sent = asyncio.run(frames())
    for image in sent:
        assert image.shape == classroom.shape
        assert judge.faces(image) == []
        # The rest of the picture is still there (not a black frame).
        assert (image[650:, :] == 90).all()


def test_in_the_background_pictures_are_withheld_until_a_fresh_detection(classroom, judge):
    faces = blur.FaceBlur(max_age_s=30)
    assert faces(classroom.copy()) is None  # no detection yet: withheld
    deadline = time.monotonic() + 20
    while faces.detected_at == float("-inf") and time.monotonic() < deadline:
        time.sleep(0.05)
    image = faces(classroom.copy())
    assert image is not None and judge.faces(image) == []
    faces.detected_at -= 31  # the detector fell behind: withheld again
    faces.busy = True  # (and no new detection is started for this check)
    assert faces(classroom.copy()) is None


def test_a_mask_zone_is_painted_over(classroom):
    masked = blur.mask_zone(classroom.copy(), {"x": 0.5, "y": 0.5, "w": 0.25, "h": 0.25})
    assert (masked[360:540, 640:960] == 48).all()
    assert (masked[:100] == classroom[:100]).all()


def unavailable():
    raise blur.DetectorUnavailable("no cascade")


def test_without_a_detector_the_class_camera_sends_nothing(classroom, judge):
    withheld = blur.FaceBlur(detector_factory=unavailable)
    assert withheld.available is False
    assert withheld(classroom.copy()) is None
    # A frame the detector fails on is withheld too.
    broken = blur.FaceBlur(sync=True)
    broken.detector.faces = lambda image: 1 / 0
    assert broken(classroom.copy()) is None

    link = KitLink(
        Credential("http://127.0.0.1:1", 1, "1.x"),
        1,
        AgentOptions(extra={"blur": {"detector_factory": unavailable}}),
    )
    link.blur_faces = True
    link.session = {"id": 1}

    async def open_and_look():
        link.open_cameras()
        # Even the track itself only ever yields a black frame then.
        frame = (await link.tracks["class"].recv()).to_ndarray(format="rgb24")
        return link.sending("class"), link.sending("board"), link.state(), frame

    class_sent, board_sent, state, frame = asyncio.run(open_and_look())
    assert class_sent is None  # no track on the class camera's sender: nothing is encoded
    assert board_sent is not None
    assert state["cameras"]["class"] == "withheld" and state["blur"] == "unavailable"
    assert "retenue" in state["message"]
    assert judge.faces(frame) == [] and frame.mean() < 10
    link.close_cameras()
