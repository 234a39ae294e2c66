"""Signalling messages, as specified in docs/protocol.md, validated with pydantic.

Every client message is parsed here before the consumer acts on it; anything that does not
match a schema is answered with an error and never forwarded.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
# "kit": the classroom kit's agent (cartable_kit), the class's media side in kit mode; the
# teacher's tablet on the "class" side is then the control side (docs/protocol.md, « Kit
# mode »).
SIDES = ("class", "pupil", "kit")
# Labels of the media a side sends, by side. The class sends two cameras and its microphone
# and receives the pupil's camera in the "pupil_camera" slot it offers.
TRACK_LABELS = {
    "class": {"board", "class", "audio", "pupil_camera"},
    "kit": {"board", "class", "audio", "pupil_camera"},
    "pupil": set(),
}


class _Message(BaseModel):
    # Strict: "1" is not a version and "yes" is not a boolean.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


PeerConnectionId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


class Hello(_Message):
    type: Literal["hello"]
    version: int = Field(ge=1, le=1000)
    client: str | None = Field(default=None, max_length=100)
    # The peer connection this client still holds after a signalling cut, so the other side
    # keeps the media flowing instead of starting again (see "Reconnecting").
    pc: PeerConnectionId | None = None


class Start(_Message):
    type: Literal["start"]


class End(_Message):
    type: Literal["end"]


class Leave(_Message):
    type: Literal["leave"]


class Ping(_Message):
    type: Literal["ping"]
    id: int | None = Field(default=None, ge=0, le=2**53)


class SessionDescription(_Message):
    type: Literal["offer", "answer", "rollback"]
    sdp: str = Field(default="", max_length=60_000)


class IceCandidate(_Message):
    candidate: str = Field(max_length=1_000)
    sdpMid: str | None = Field(default=None, max_length=32)  # noqa: N815 (WebRTC's name)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815


class Signal(_Message):
    """An SDP description or an ICE candidate for the other side, relayed untouched."""

    type: Literal["signal"]
    pc: PeerConnectionId | None = None  # the sender's peer connection
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None
    # mid -> label, sent by the class with its offers so the pupil knows which is which.
    tracks: dict[Annotated[str, Field(max_length=32)], str] | None = Field(
        default=None, max_length=16
    )

    def check(self, side: str) -> str | None:
        """A protocol error for ``side`` sending this, or None."""
        if (self.description is None) == (self.candidate is None):
            return "A signal carries exactly one of description or candidate."
        if self.tracks is not None:
            allowed = TRACK_LABELS[side]
            bad = sorted(set(self.tracks.values()) - allowed)
            if bad:
                return f"Unknown track label(s) for the {side} side: {', '.join(bad)}."
        return None


class Media(_Message):
    """What a side is sending, for the other side to show (the pupil's camera is off...)."""

    type: Literal["media"]
    microphone: bool
    camera: bool


class Hand(_Message):
    """The pupil raises (or lowers) their hand."""

    type: Literal["hand"]
    raised: bool


class Floor(_Message):
    """The teacher gives the pupil the floor, which lowers the hand."""

    type: Literal["floor"]


CUES = ("cant_hear", "cant_see", "slower", "away", "back")


class Cue(_Message):
    """A quick signal from the pupil: « Je n'entends pas », « Je fais une pause »..."""

    type: Literal["cue"]
    cue: Literal[CUES]


class Chat(_Message):
    """A written message. Relayed, never stored: it lives as long as the pages."""

    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=500)


REACTIONS = ("thumbs_up", "thumbs_down", "smile", "heart", "clap", "question")


class Reaction(_Message):
    type: Literal["reaction"]
    reaction: Literal[REACTIONS]


class Pause(_Message):
    """The privacy pause: while on, the class sends no picture and no sound."""

    type: Literal["pause"]
    paused: bool


class Economy(_Message):
    """The pupil's data-saving mode: no class camera, fewer but sharper board frames."""

    type: Literal["economy"]
    on: bool


QUALITY_REASONS = ("loss", "latency", "low_frame_rate", "freezes")


class Quality(_Message):
    """A summary of what this side receives, sampled from getStats every few seconds."""

    type: Literal["quality"]
    level: Literal["good", "degraded", "poor"]
    reasons: list[Literal[QUALITY_REASONS]] = Field(default_factory=list, max_length=4)
    rtt_ms: float | None = Field(default=None, ge=0, le=60_000)
    loss_pct: float = Field(default=0, ge=0, le=100)
    jitter_ms: float | None = Field(default=None, ge=0, le=60_000)
    fps: float | None = Field(default=None, ge=0, le=240)
    width: int | None = Field(default=None, ge=0, le=10_000)
    height: int | None = Field(default=None, ge=0, le=10_000)
    freezes: int = Field(default=0, ge=0, le=10_000)
    bitrate_kbps: float | None = Field(default=None, ge=0, le=1_000_000)
    relayed: bool = False


CAMERA_STATES = ("ok", "missing", "off", "withheld")


class KitState(_Message):
    """The kit's agent tells the teacher's tablet what it is doing."""

    type: Literal["kit_state"]
    # Each camera: "ok", "missing" (unplugged), "off" (no lesson, paused, economy) or
    # "withheld" (not sent because the face blur cannot run: it fails closed).
    cameras: dict[Literal["board", "class"], Literal[CAMERA_STATES]] = Field(
        min_length=2, max_length=2
    )
    microphone: bool
    on_air: bool
    network: Literal["wifi", "4g", "wired"]
    blur: Literal["off", "on", "unavailable"]
    mask: bool = False
    message: str | None = Field(default=None, max_length=300)


class Zone(_Message):
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)


class KitMask(_Message):
    """The teacher masks a zone of the class camera's picture (or lifts the mask: null)."""

    type: Literal["kit_mask"]
    zone: Zone | None


WORK_CHANGES = ("handed_out", "returned", "corrected")


class WorkNotice(_Message):
    """Server message: a document was handed out, returned or corrected (the files go over
    HTTPS, never here; the pages fetch the work by its id). Checked before it is sent."""

    type: Literal["work"]
    work: int = Field(ge=1)
    change: Literal[WORK_CHANGES]
    state: Literal["todo", "returned", "corrected"]


# The client messages, written once: the union the parser validates and CLIENT_TYPES are
# both derived from this list (each model's ``type`` literal).
CLIENT_MESSAGES = (
    Hello,
    Start,
    End,
    Leave,
    Ping,
    Signal,
    Media,
    Hand,
    Floor,
    Cue,
    Chat,
    Reaction,
    Pause,
    Economy,
    Quality,
    KitState,
    KitMask,
)
ClientMessage = Annotated[Union[CLIENT_MESSAGES], Field(discriminator="type")]  # noqa: UP007

_adapter = TypeAdapter(ClientMessage)
CLIENT_TYPES = tuple(
    literal
    for model in CLIENT_MESSAGES
    for literal in get_args(model.model_fields["type"].annotation)
)
# Messages relayed to the other side as they are, stamped with the server's time.
RELAYED = (
    "media",
    "hand",
    "floor",
    "cue",
    "chat",
    "reaction",
    "pause",
    "economy",
    "quality",
    "kit_state",
    "kit_mask",
)
# Which side may send which message, once the handshake is done.
SENDERS = {
    "hello": set(SIDES),
    "start": {"class"},
    "end": {"class"},
    "leave": set(SIDES),
    "ping": set(SIDES),
    "signal": set(SIDES),
    "media": set(SIDES),
    "hand": {"pupil"},
    "floor": {"class"},
    "cue": {"pupil"},
    "chat": {"class", "pupil"},
    "reaction": {"class", "pupil"},
    "pause": {"class"},
    "economy": {"pupil"},
    "quality": set(SIDES),
    "kit_state": {"kit"},
    "kit_mask": {"class"},
}
# Where a side's relayed message goes, by message and sender: the sides it is sent to,
# those that are connected. Without a kit this is the two sides' exchange of old; with a kit,
# the pupil's media side is the kit and the teacher's tablet steers it ("Kit mode").
ROUTES = {
    ("signal", "pupil"): ("media",),  # the kit if it is connected, else the class
    ("signal", "class"): ("pupil",),
    ("signal", "kit"): ("pupil",),
    ("media", "pupil"): ("class", "kit"),
    ("media", "class"): ("pupil",),
    ("media", "kit"): ("pupil",),
    ("hand", "pupil"): ("class", "kit"),
    ("floor", "class"): ("pupil", "kit"),
    ("cue", "pupil"): ("class", "kit"),
    ("chat", "pupil"): ("class",),
    ("chat", "class"): ("pupil",),
    ("reaction", "pupil"): ("class",),
    ("reaction", "class"): ("pupil",),
    ("pause", "class"): ("pupil", "kit"),
    ("economy", "pupil"): ("class", "kit"),
    ("quality", "pupil"): ("class", "kit"),
    ("quality", "class"): ("pupil",),
    ("quality", "kit"): ("class", "pupil"),
    ("kit_state", "kit"): ("class",),
    ("kit_mask", "class"): ("kit",),
}
SERVER_TYPES = (
    "welcome",
    "peer_joined",
    "peer_left",
    "session_started",
    "session_ended",
    "signal",
    "media",
    "hand",
    "floor",
    "cue",
    "chat",
    "reaction",
    "pause",
    "economy",
    "quality",
    "kit_state",
    "kit_mask",
    "kit_presence",
    "work",
    "pong",
    "error",
)


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, close_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


def parse(text: str):
    """Parse one client message; raise ProtocolError with a precise code otherwise."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError, not only JSONDecodeError: an integer longer than Python's conversion
        # limit (4300 digits) raises a plain ValueError, which crashed the consumer and
        # dropped the connection without its cleanup (no peer_left, attendance left open).
        raise ProtocolError("bad_json", "The message is not valid JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("bad_message", "A message is a JSON object with a string 'type'.")
    if raw["type"] not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", "Unknown message type.")
    try:
        return _adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise ProtocolError("bad_message", f"Invalid field {where}: {first['msg']}.") from None


def error(code: str, message: str, **fields) -> dict:
    return {"type": "error", "code": code, "message": message, **fields}
