"""The kit's side of a loan's live link: the signalling WebSocket (side ``kit``) and the
WebRTC peer connection with the pupil, following the lesson as the browser station does.

- Signalling: reconnects with backoff after any cut (network loss, a server restart) and
  says hello again with its peer connection's id, so the media goes on meanwhile.
- Media: cameras open at ``session_started`` and close at ``session_ended``; the offer is
  the station's (board, class, audio, pupil_camera, then the ``view`` and ``stills``
  channels); pause, economy, steering, named views and stills as in station.js.
- Records nothing: the pupil's picture is discarded, their voice is played (or counted by
  a sink in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import struct
import time

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from aiortc.sdp import candidate_from_sdp

from . import __version__, onair, system
from .agent import backoff
from .blur import WITHHELD, FaceBlur, mask_zone
from .credential import Credential
from .media import CameraTrack, source_for
from .view import MAX_ZOOM, WHOLE_CLASS, View, crop

log = logging.getLogger("cartable_kit.live")

PROTOCOL_VERSION = 1
PEER_VERSION = 1
CLASS_LABELS = ["board", "class", "audio", "pupil_camera"]
CHUNK_BYTES = 16 * 1024
CHUNK_HEADER = 8
QUALITY_EVERY_S = 5.0


def allow_loopback_candidates():
    """Tests in a loopback-only namespace: let aioice offer 127.0.0.1 (it leaves it out)."""
    original = aioice.ice.get_host_addresses
    if getattr(original, "kit_loopback", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        return addresses if addresses else (["127.0.0.1"] if use_ipv4 else [])

    with_loopback.kit_loopback = True
    aioice.ice.get_host_addresses = with_loopback


class SilenceTrack(AudioStreamTrack):
    """The microphone in tests (and when none is plugged): silence, paced."""


class Speaker:
    """Plays an audio track on an ALSA output device through PyAV, frame by frame as it
    arrives: a sound card is the only output, no file is ever opened."""

    def __init__(self, device: str):
        import av

        self.output = av.open(device, mode="w", format="alsa")
        self.stream = self.output.add_stream("pcm_s16le")
        self.task: asyncio.Task | None = None

    def start(self, track) -> None:
        self.task = asyncio.ensure_future(self._play(track))

    async def _play(self, track) -> None:
        try:
            while True:
                frame = await track.recv()
                for packet in self.stream.encode(frame):
                    self.output.mux(packet)
        except Exception:  # the track ended (MediaStreamError) or the device went away
            return

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        with contextlib.suppress(Exception):
            self.output.close()


class AudioSink:
    """Where the pupil's voice goes in tests: frames counted, their loudness kept."""

    def __init__(self):
        self.frames = 0
        self.peak = 0.0

    async def consume(self, track):
        import numpy as np

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames += 1
            samples = frame.to_ndarray()
            if samples.size:
                self.peak = max(self.peak, float(np.abs(samples).max()))


class KitLink:
    def __init__(self, held: Credential, loan: int, options):
        self.credential = held
        self.loan = loan
        self.options = options
        extra = options.extra or {}

        def opener(spec, label, index):
            # A spec (test:, /dev/v4l/by-id/..., a file), "auto" (the cameras plugged in, by
            # stable name: the first is the board's, the second the class's; a test pattern
            # if there is none), or a factory of a source (benches).
            if callable(spec):
                return spec

            def make():
                chosen = spec
                if spec == "auto":
                    names = system.cameras()
                    chosen = str(system.V4L_BY_ID / names[index]) if len(names) > index else "test:"
                return source_for(chosen, label=label, **extra.get("size", {}))

            return make

        self.sources = {
            "board": opener(extra.get("board_source", options.board), "tableau", 0),
            "class": opener(extra.get("class_source", options.class_camera), "classe", 1),
        }
        self.source_objects: dict = {}
        self.ws = None
        self.pc: RTCPeerConnection | None = None
        self.pc_id: str | None = None
        self.remote_pc: str | None = None
        self.tracks: dict[str, CameraTrack] = {}
        self.audio_track = None
        self.session = None
        self.pupil_present = False
        self.paused = False
        self.economy = False
        self.blur_faces = False
        self.blur: FaceBlur | None = None
        self.mask: dict | None = None
        self.view = View()
        self.view_seq = 0
        self.view_by = "class"
        self.view_id: str | None = WHOLE_CLASS["id"]
        self.channels: dict = {}
        self.still_id = 0
        self.ice_servers: list = []
        self.ice_policy = "all"
        self.sink = options.audio_sink
        self.on_hand = extra.get("on_hand") or onair.hand_sound
        self.light = extra.get("light") or onair.default_light()
        self.events: list[dict] = []  # what happened (tests and logs)
        self.stills_sent = 0
        self.connected = asyncio.Event()
        self.connections = 0
        self.blackhole = MediaBlackhole()
        self.quality_task = None
        self.state_sent: dict | None = None
        if options.loopback_ice:
            allow_loopback_candidates()

    # Status ---------------------------------------------------------------------------

    def camera_names(self) -> list[str]:
        return system.cameras() or [
            str(getattr(s, "path", s.__class__.__name__)) for s in self.source_objects.values()
        ]

    def camera_state(self, name: str) -> str:
        if self.session is None or self.paused or (name == "class" and self.economy):
            return "off"
        if name == "class" and self.blur_faces and not (self.blur and self.blur.available):
            return "withheld"
        track = self.tracks.get(name)
        if track is None:
            return "off"
        return "missing" if track.state == "missing" else "ok"

    def on_air(self) -> bool:
        return self.pc is not None and any(
            self.camera_state(name) == "ok" for name in ("board", "class")
        )

    def state(self) -> dict:
        message = None
        if self.camera_state("class") == "withheld":
            message = WITHHELD
        elif "missing" in (self.camera_state("board"), self.camera_state("class")):
            message = "Caméra débranchée : l'image est noire jusqu'à son retour."
        blur = "off"
        if self.blur_faces:
            blur = "on" if self.blur and self.blur.available else "unavailable"
        return {
            "type": "kit_state",
            "cameras": {"board": self.camera_state("board"), "class": self.camera_state("class")},
            "microphone": self.pc is not None and not self.paused,
            "on_air": self.on_air(),
            "network": system.network(),
            "blur": blur,
            "mask": self.mask is not None,
            "message": message,
        }

    async def send_state(self, force: bool = False):
        state = self.state()
        self.light(state["on_air"])
        if self.session is None:
            return
        if force or state != self.state_sent:
            self.state_sent = state
            await self.send(state)

    # Signalling -----------------------------------------------------------------------

    def ws_url(self) -> str:
        base = self.credential.server.rstrip("/")
        scheme = "wss" if base.startswith("https://") else "ws"
        return f"{scheme}://{base.split('://', 1)[1]}/ws/live/{self.loan}/kit/"

    async def send(self, message: dict) -> bool:
        if self.ws is None:
            return False
        try:
            await self.ws.send(json.dumps(message))
            return True
        except Exception:  # the socket is gone; the reconnect loop handles it
            return False

    async def run(self, stopping: asyncio.Event):
        from websockets.asyncio.client import connect

        attempt = 0
        headers = {"Authorization": f"Bearer {self.credential.token}"}
        origin = self.credential.server.rstrip("/")
        while not stopping.is_set():
            try:
                async with connect(
                    self.ws_url(),
                    additional_headers=headers,
                    origin=origin,
                    open_timeout=10,
                    ping_interval=10,
                    ping_timeout=10,
                    max_size=2**20,
                ) as ws:
                    self.ws = ws
                    self.connections += 1
                    await self.send(
                        {
                            "type": "hello",
                            "version": PROTOCOL_VERSION,
                            "client": f"cartable-kit/{__version__}",
                            **({"pc": self.pc_id} if self.pc is not None else {}),
                        }
                    )
                    attempt = 0
                    reader = asyncio.create_task(self._read(ws))
                    stopper = asyncio.create_task(stopping.wait())
                    done, _ = await asyncio.wait(
                        {reader, stopper}, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in (reader, stopper):
                        task.cancel()
                    if reader.done() and not reader.cancelled() and stopper in done:
                        reader.exception()  # retrieved: the socket closed as we stopped
                    if stopper in done:
                        with contextlib.suppress(Exception):
                            await ws.send(json.dumps({"type": "leave"}))
                        return
                    # Surface the reader's exception, if any, for the log.
                    with contextlib.suppress(asyncio.CancelledError):
                        reader.result()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("signalling lost (%s): reconnecting", exc)
            finally:
                self.ws = None
                self.connected.clear()
            self.events.append({"event": "signalling_lost"})
            delay = backoff(attempt, 0.5, 15)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)

    async def _read(self, ws):
        async for text in ws:
            try:
                message = json.loads(text)
            except ValueError:
                continue
            try:
                await self.on_message(message)
            except Exception:
                log.exception("handling %s", message.get("type"))

    async def on_message(self, message: dict):
        kind = message.get("type")
        if kind == "welcome":
            self.connected.set()
            self.ice_servers = message.get("ice_servers") or []
            self.ice_policy = message.get("ice_transport_policy", "all")
            self.blur_faces = bool(message.get("blur_faces"))
            session = message.get("session")
            if session is None:
                await self.lesson_ended()
            elif self.session is None:
                await self.lesson_started(session)
            await self.send_state(force=True)
        elif kind == "session_started":
            if message.get("ice_servers"):
                self.ice_servers = message["ice_servers"]
            await self.lesson_started(message["session"])
        elif kind == "session_ended":
            await self.lesson_ended()
        elif kind == "peer_joined":
            if message.get("side") == "pupil":
                self.pupil_present = True
                keep = self.pc is not None and message.get("pc") and message["pc"] == self.remote_pc
                if not keep:
                    await self.close_peer()
                await self.maybe_start_peer()
            elif message.get("side") == "class":
                await self.send_state(force=True)
        elif kind == "peer_left":
            if message.get("side") == "pupil":
                self.pupil_present = False
                if message.get("reason") != "lost":
                    await self.close_peer()
        elif kind == "signal":
            if message.get("pc"):
                self.remote_pc = message["pc"]
            await self.on_signal(message)
        elif kind == "pause":
            await self.set_paused(bool(message.get("paused")))
        elif kind == "economy":
            await self.set_economy(bool(message.get("on")))
        elif kind == "kit_mask":
            self.mask = message.get("zone")
            await self.send_state()
        elif kind == "hand":
            if message.get("raised"):
                self.events.append({"event": "hand"})
                with contextlib.suppress(Exception):
                    self.on_hand()
        elif kind == "error":
            log.info("server refused: %s %s", message.get("code"), message.get("message"))
            self.events.append({"event": "error", "code": message.get("code")})

    # The lesson -----------------------------------------------------------------------

    async def lesson_started(self, session: dict):
        self.session = session
        self.paused = False
        self.events.append({"event": "lesson_started"})
        self.open_cameras()
        await self.maybe_start_peer()
        await self.send_state(force=True)

    async def lesson_ended(self):
        was = self.session is not None
        self.session = None
        await self.close_peer()
        self.close_cameras()
        self.light(False)
        if was:
            self.events.append({"event": "lesson_ended"})

    def open_cameras(self):
        """Cameras open only during a lesson."""
        if self.tracks:
            return
        self.loop = asyncio.get_running_loop()
        if self.blur_faces:
            self.blur = FaceBlur(**(self.options.extra.get("blur") or {}))
        for name in ("board", "class"):
            source = self.source_objects.get(name) or self.sources[name]()
            self.source_objects[name] = source
            self.tracks[name] = CameraTrack(
                name, source, process=self._processor(name), on_state=self._camera_changed
            )
        self.audio_track = self.options.extra.get("microphone") or SilenceTrack()

    def close_cameras(self):
        for track in self.tracks.values():
            track.stop()
        self.tracks = {}
        if self.audio_track is not None:
            self.audio_track.stop()
            self.audio_track = None

    def _processor(self, name: str):
        if name == "board":
            return None

        def process(image):
            width, height = self.tracks["class"].width, self.tracks["class"].height
            if self.blur_faces:
                # Before anything else, on the whole picture: no face leaves the kit.
                image = self.blur(image) if self.blur else None
                if image is None:
                    return None
            image = mask_zone(image, self.mask)
            return crop(image, self.view, width, height)

        return process

    def _camera_changed(self, name: str, state: str):
        # Called from the thread that reads the camera: back to the agent's loop.
        self.events.append({"event": f"camera_{state}", "camera": name})
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.send_state()))

    def sending(self, label: str):
        if self.paused:
            return None
        if label == "class" and self.economy:
            return None
        if label == "class" and self.blur_faces and not (self.blur and self.blur.available):
            return None  # fail closed: not even black frames from the encoder of faces
        if label == "audio":
            return self.audio_track
        return self.tracks.get(label)

    async def apply_sending(self):
        if self.pc is None:
            return
        transceivers = self.pc.getTransceivers()
        for index, label in enumerate(("board", "class", "audio")):
            sender = transceivers[index].sender
            wanted = self.sending(label)
            if sender.track is not wanted:
                sender.replaceTrack(wanted)
        board = self.tracks.get("board")
        if board is not None:
            board.fps = 5 if self.economy else board.source.fps
            board.started_at, board.index = None, 0
        await self.send_state()

    async def set_paused(self, paused: bool):
        self.paused = paused
        self.events.append({"event": "pause" if paused else "resume"})
        await self.apply_sending()

    async def set_economy(self, on: bool):
        self.economy = on
        self.events.append({"event": "economy", "on": on})
        await self.apply_sending()

    # The peer connection --------------------------------------------------------------

    def configuration(self) -> RTCConfiguration:
        servers = []
        for server in self.ice_servers:
            urls = server.get("urls")
            servers.append(
                RTCIceServer(
                    urls=urls, username=server.get("username"), credential=server.get("credential")
                )
            )
        return RTCConfiguration(iceServers=servers)

    async def maybe_start_peer(self):
        if self.pc is not None or self.session is None or not self.pupil_present:
            return
        if not self.tracks:
            self.open_cameras()
        pc = RTCPeerConnection(self.configuration())
        self.pc = pc
        self.pc_id = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        for label in ("board", "class"):
            pc.addTransceiver(self.sending(label) or "video", direction="sendonly")
        pc.addTransceiver(self.sending("audio") or "audio", direction="sendrecv")
        pc.addTransceiver("video", direction="recvonly")
        for label in ("view", "stills"):
            channel = pc.createDataChannel(label, ordered=True)
            self.channels[label] = channel
            self._bind_channel(channel)
        transceivers = pc.getTransceivers()
        if self.sending("board") is None:
            transceivers[0].sender.replaceTrack(None)
        if self.sending("class") is None:
            transceivers[1].sender.replaceTrack(None)

        @pc.on("track")
        def on_track(track):
            if track.kind == "audio":
                if self.sink is not None:
                    asyncio.ensure_future(self.sink.consume(track))
                else:
                    asyncio.ensure_future(self.play(track))
            else:
                # The pupil's picture: the kit has no screen; it is never kept.
                self.blackhole.addTrack(track)
                asyncio.ensure_future(self.blackhole.start())

        @pc.on("connectionstatechange")
        async def on_state():
            self.events.append({"event": f"pc_{pc.connectionState}"})
            if pc.connectionState == "connected":
                await self.send_state()
            if pc.connectionState == "failed" and self.pc is pc:
                await self.close_peer()
                await self.maybe_start_peer()

        await pc.setLocalDescription(await pc.createOffer())
        await self.send_description()
        self.quality_task = asyncio.ensure_future(self.quality_loop(pc))

    async def send_description(self):
        pc = self.pc
        tracks = {}
        for index, transceiver in enumerate(pc.getTransceivers()):
            if transceiver.mid is not None:
                tracks[transceiver.mid] = CLASS_LABELS[index]
        await self.send(
            {
                "type": "signal",
                "pc": self.pc_id,
                "description": {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp},
                "tracks": tracks,
            }
        )

    async def on_signal(self, message: dict):
        description = message.get("description")
        candidate = message.get("candidate")
        pc = self.pc
        if pc is None:
            return
        if description:
            if description["type"] == "answer" and pc.signalingState == "have-local-offer":
                await pc.setRemoteDescription(
                    RTCSessionDescription(sdp=description["sdp"], type="answer")
                )
            elif description["type"] == "offer":
                # The pupil renegotiates (its camera): the kit answers (it is impolite, but
                # it never offers again while stable).
                await pc.setRemoteDescription(
                    RTCSessionDescription(sdp=description["sdp"], type="offer")
                )
                await pc.setLocalDescription(await pc.createAnswer())
                await self.send_description()
        elif candidate and candidate.get("candidate"):
            try:
                parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
                parsed.sdpMid = candidate.get("sdpMid")
                parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
                await pc.addIceCandidate(parsed)
            except Exception as exc:
                log.debug("candidate refused: %s", exc)

    async def play(self, track):
        """The pupil's voice on the kit's speaker (ALSA's default output, through PyAV);
        played as it arrives, never written anywhere."""
        device = self.options.extra.get("speaker", "default")
        try:
            speaker = Speaker(device)
            speaker.start(track)
            self.speaker = speaker
        except Exception as exc:
            log.warning("no speaker (%s): the pupil's voice is not played", exc)
            self.blackhole.addTrack(track)
            await self.blackhole.start()

    async def close_peer(self):
        pc, self.pc = self.pc, None
        self.channels = {}
        if self.quality_task is not None:
            self.quality_task.cancel()
            self.quality_task = None
        if pc is not None:
            await pc.close()
            self.events.append({"event": "pc_closed"})
        with contextlib.suppress(Exception):
            await self.blackhole.stop()
        speaker, self.speaker = getattr(self, "speaker", None), None
        if speaker is not None:
            with contextlib.suppress(Exception):
                await speaker.stop()
        self.blackhole = MediaBlackhole()

    async def close(self):
        await self.lesson_ended()

    # Telemetry ------------------------------------------------------------------------

    async def quality_loop(self, pc):
        previous = None
        while self.pc is pc:
            await asyncio.sleep(QUALITY_EVERY_S)
            if pc.connectionState != "connected":
                continue
            try:
                stats = await pc.getStats()
            except Exception as exc:
                log.debug("stats: %s", exc)
                continue
            received = lost = 0
            rtt = None
            for report in stats.values():
                if report.type == "inbound-rtp":
                    received += getattr(report, "packetsReceived", 0) or 0
                    lost += max(0, getattr(report, "packetsLost", 0) or 0)
                elif report.type == "remote-inbound-rtp" and getattr(report, "roundTripTime", None):
                    rtt = report.roundTripTime * 1000
            now = (received, lost)
            d_received = now[0] - (previous or (0, 0))[0]
            d_lost = now[1] - (previous or (0, 0))[1]
            previous = now
            loss = 100 * d_lost / (d_received + d_lost) if d_received + d_lost else 0
            reasons = ["loss"] if loss > 5 else []
            if rtt is not None and rtt > 400:
                reasons.append("latency")
            level = "poor" if loss > 15 else ("degraded" if reasons else "good")
            sample = {"type": "quality", "level": level, "reasons": reasons}
            sample["loss_pct"] = round(min(100.0, loss), 1)
            if rtt is not None:
                sample["rtt_ms"] = round(min(rtt, 60_000), 1)
            await self.send(sample)

    # Data channels: steering, named views, stills -------------------------------------

    def _bind_channel(self, channel):
        @channel.on("open")
        def on_open():
            if channel.label == "view":
                self._send_view(channel, self.view_state())
                self._send_view(
                    channel,
                    {
                        "type": "views",
                        "views": [{"id": WHOLE_CLASS["id"], "name": WHOLE_CLASS["name"]}],
                    },
                )

        @channel.on("message")
        def on_message(data):
            if channel.label != "view" or not isinstance(data, str) or len(data) > 4096:
                return
            try:
                message = json.loads(data)
            except ValueError:
                return
            if not isinstance(message, dict):
                return
            asyncio.ensure_future(self.on_peer_message(channel, message))

    def _send_view(self, channel, message):
        if channel.readyState == "open":
            channel.send(json.dumps(message))

    def view_state(self) -> dict:
        return {
            "type": "view_state",
            "version": PEER_VERSION,
            "seq": self.view_seq,
            "x": self.view.x,
            "y": self.view.y,
            "zoom": self.view.zoom,
            "max_zoom": MAX_ZOOM,
            "aspect": 16 / 9,
            "view": self.view_id,
            "locked": False,
            "keep_stills": False,
            "optical": False,
            "by": self.view_by,
        }

    def refuse(self, channel, seq, about, reason):
        self._send_view(channel, {"type": "refused", "seq": seq, "about": about, "reason": reason})

    async def on_peer_message(self, channel, message: dict):
        kind = message.get("type")
        seq = message.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
            return
        self.view_seq = max(self.view_seq, seq)
        if kind == "still_request":
            await self.send_still(channel, seq)
        elif kind == "view_set":
            try:
                x, y, zoom = (float(message[k]) for k in ("x", "y", "zoom"))
            except (KeyError, TypeError, ValueError):
                return
            if not (0 <= x <= 1 and 0 <= y <= 1 and 1 <= zoom <= 16):
                return
            self.view = View(x, y, zoom).clamped()
            self.view_by, self.view_id = "pupil", None
            self.events.append({"event": "view", "x": self.view.x, "zoom": self.view.zoom})
            self._send_view(channel, self.view_state())
        elif kind == "view_preset":
            if message.get("view") != WHOLE_CLASS["id"]:
                return self.refuse(channel, seq, "view", "unknown_view")
            self.view = View()
            self.view_by, self.view_id = "pupil", WHOLE_CLASS["id"]
            self._send_view(channel, self.view_state())

    async def send_still(self, channel, seq: int):
        """A still of the board at the camera's full resolution, JPEG, in 16 KiB chunks."""
        stills = self.channels.get("stills")
        if self.paused:
            return self.refuse(channel, seq, "still", "paused")
        source = self.source_objects.get("board")
        if stills is None or stills.readyState != "open" or source is None:
            return self.refuse(channel, seq, "still", "unavailable")
        try:
            image = await asyncio.to_thread(source.read, self.tracks["board"].index)
        except Exception:
            return self.refuse(channel, seq, "still", "unavailable")
        import cv2

        ok, encoded = cv2.imencode(
            ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92]
        )
        if not ok:
            return self.refuse(channel, seq, "still", "unavailable")
        data = encoded.tobytes()
        height, width = image.shape[:2]
        self.still_id += 1
        payload = CHUNK_BYTES - CHUNK_HEADER
        chunks = -(-len(data) // payload)
        stills.send(
            json.dumps(
                {
                    "type": "still_begin",
                    "id": self.still_id,
                    "seq": seq,
                    "mime": "image/jpeg",
                    "width": width,
                    "height": height,
                    "size": len(data),
                    "chunks": chunks,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "taken_at": int(time.time() * 1000),
                }
            )
        )
        for index in range(chunks):
            if self.paused:
                stills.send(
                    json.dumps({"type": "still_abort", "id": self.still_id, "reason": "paused"})
                )
                return
            part = data[index * payload : (index + 1) * payload]
            stills.send(struct.pack(">II", self.still_id, index) + part)
            if index % 16 == 15:
                await asyncio.sleep(0)
        stills.send(json.dumps({"type": "still_end", "id": self.still_id}))
        self.stills_sent += 1
        self.events.append({"event": "still", "bytes": len(data)})
