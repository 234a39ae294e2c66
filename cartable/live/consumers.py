"""The signalling consumer: one WebSocket per participant per loan's live link.

The server introduces the two sides, checks who may talk to whom, relays their WebRTC
descriptions and candidates, and records attendance. Media never passes through here.

Presence works across worker processes through the channel layer: a side that joins
announces itself to the loan's group and the other side answers directly, so no shared
in-process state is needed (the Redis layer carries it between workers).

Presence is honest: each consumer refreshes its attendance row's last sign of life (a
heartbeat, and its messages), and a sweep closes the rows no live socket holds any more at
that time (docs/protocol.md, "Presence"). A channel-layer outage (Redis restarting) closes the
connection with 1013 after its cleanup, and the client comes back by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.utils import timezone

from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_authenticate, credential_touch
from cartable.organisation.access import Action, Actor, can

from . import kit, protocol, services, turn
from .events import loan_group
from .models import LiveSession

log = logging.getLogger("cartable.live")

# Close codes (docs/protocol.md, "Closing").
CLOSE_BAD_HANDSHAKE = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_REPLACED = 4409
CLOSE_REVOKED = 4410
CLOSE_TOO_BIG = 4413
CLOSE_TOO_MANY = 4429
# The channel layer (Redis) failed: the server cleaned up and the client should come back.
CLOSE_TRY_AGAIN = 1013

HELLO_TIMEOUT_S = 10
QUALITY_MIN_INTERVAL_S = 2.0  # at most one quality write per connection in this time
MAX_STRIKES = 10  # invalid messages tolerated before the connection is closed
TOUCH_MIN_INTERVAL_S = 5.0  # a message refreshes the last sign of life at most this often

try:
    from redis.exceptions import RedisError
except ImportError:  # the in-memory layer only
    RedisError = OSError
# What a channel layer raises when its server is gone or restarting: redis-py's own
# ConnectionError and TimeoutError are RedisErrors, not the builtin ones.
LAYER_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
LAYER_RETRY_DELAY_S = 0.2


async def layer_call(method, *args):
    """A channel-layer call, tried twice: after Redis restarts, the first use of each pooled
    connection fails (the pool drops it then), and the second try takes a fresh one."""
    try:
        return await method(*args)
    except LAYER_ERRORS as exc:
        log.info("live channel layer retry call=%s error=%s", method.__name__, type(exc).__name__)
        await asyncio.sleep(LAYER_RETRY_DELAY_S)
        return await method(*args)


# One presence sweeper per event loop (per server process): at its first connection, then
# every LIVE["SWEEP_SECONDS"]. Started here because the server runs without ASGI lifespan.
_sweepers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PROCESS_STARTED = timezone.now()


def ensure_sweeper() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _sweepers:
        _sweepers[loop] = loop.create_task(_sweep_forever())


async def _sweep_forever():
    # With the in-memory layer this process is the only server: no row last seen before it
    # started can be held by a live socket, so those close at once. With Redis, other
    # workers may hold rows: only those silent for PRESENCE_STALE_SECONDS are closed.
    start_cutoff = None if settings.REDIS_URL else _PROCESS_STARTED
    while True:
        try:
            swept = await database_sync_to_async(services.presence_sweep)(seen_before=start_cutoff)
            if swept.rows_closed or swept.sessions_abandoned:
                log.info(
                    "live presence sweep rows_closed=%s sessions_abandoned=%s",
                    swept.rows_closed,
                    swept.sessions_abandoned,
                )
        except Exception:  # a database hiccup must not stop the sweeps to come
            log.exception("live presence sweep failed")
        start_cutoff = None
        await asyncio.sleep(settings.LIVE["SWEEP_SECONDS"])


def device_token(scope) -> str | None:
    """A device credential from the Authorization header (kit agent) or the cookie (tablet)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return scope.get("cookies", {}).get(settings.DEVICE_COOKIE_NAME)


class TokenBucket:
    def __init__(self, rate: float, burst: int):
        self.rate, self.capacity = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class LiveConsumer(AsyncWebsocketConsumer):
    side: str | None = None
    loan_id: int | None = None
    session_id: int | None = None
    attendance = None
    peers: dict  # side -> channel of the other sides connected (set in connect)
    peer_pcs: dict
    greeted = False
    leaving = False
    pc_id: str | None = None
    quality_stamp = float("-inf")
    closing = False  # this side closed the socket; only the disconnect is handled now
    cleaned_up = False
    device = None
    user = None
    hello_timer = None
    heartbeat = None
    touch_stamp = float("-inf")
    touching = None

    # Connection ----------------------------------------------------------------------

    async def __call__(self, scope, receive, send):
        # AsyncConsumer.__call__, with the channel layer's failures caught: an unhandled
        # ConnectionError from Redis (in a handler or in the receive loop) killed the consumer
        # with close 1006 and no cleanup: attendance stayed open, the peer was not told.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            self.channel_name = await self.channel_layer.new_channel()
            await await_many_dispatch([receive, self._channel_receive], self.dispatch)
        except StopConsumer:
            pass
        except LAYER_ERRORS as exc:
            await self._layer_lost(exc)
        finally:
            self._stop_timers()

    async def _channel_receive(self):
        return await layer_call(self.channel_layer.receive, self.channel_name)

    async def _layer_lost(self, exc):
        """The channel layer failed twice running: clean up, then ask the client to retry."""
        log.warning("live channel layer lost side=%s error=%s", self.side, type(exc).__name__)
        self._stop_timers()
        await self._cleanup("lost")
        if not self.closing:
            await self.send_json(
                protocol.error("unavailable", "The server lost its message bus; reconnect.")
            )
            await self.close(code=CLOSE_TRY_AGAIN)

    def _stop_timers(self):
        if self.hello_timer is not None:
            self.hello_timer.cancel()
        if self.heartbeat is not None:
            self.heartbeat.cancel()

    async def dispatch(self, message):
        # Once this side has closed, a client message already queued behind the one that
        # closed (a flood, an oversize message) or a peer event must not be acted on: the
        # server refuses any send after the close (RuntimeError), which killed the consumer
        # before disconnect() ran, so the peer never heard peer_left and attendance stayed
        # open. The disconnect itself still runs the cleanup.
        if self.closing and message["type"] != "websocket.disconnect":
            return
        await super().dispatch(message)

    async def close(self, code=None, reason=None):
        if self.closing:
            return  # a second close (the hello timer firing late) is refused by the server
        self.closing = True
        # The client may already be gone: ASGI servers then raise an OSError subclass.
        with contextlib.suppress(OSError):
            await super().close(code=code, reason=reason)

    async def connect(self):
        self.loan_id = self.scope["url_route"]["kwargs"]["loan_id"]
        self.peers, self.peer_pcs = {}, {}
        self.side = await self._authorise()
        if self.side is None:
            # Refused at the handshake: the client sees HTTP 403 and learns nothing more.
            log.info("live refused connection loan=%s", self.loan_id)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        limits = settings.LIVE
        self.bucket = TokenBucket(limits["RATE_PER_SECOND"], limits["RATE_BURST"])
        self.strikes = 0
        await self.accept()
        self.hello_timer = asyncio.get_running_loop().call_later(
            HELLO_TIMEOUT_S, lambda: asyncio.ensure_future(self._hello_timeout())
        )
        self.heartbeat = asyncio.ensure_future(self._beat())
        ensure_sweeper()

    @database_sync_to_async
    def _authorise(self) -> str | None:
        wanted = self.scope["url_route"]["kwargs"]["side"]
        if wanted not in protocol.SIDES:
            return None
        loan = Loan.objects.filter(pk=self.loan_id).first()
        if loan is None or not loan.is_active():
            return None
        token = device_token(self.scope)
        device = credential_authenticate(token) if token else None
        user = self.scope.get("user")
        if wanted == "kit":
            # Only the kit's own agent, with the credential its class box got at enrolment.
            if device is None or not kit.agent_may(device, loan):
                return None
            self.device, self.user = device, None
            credential_touch(device)
            return wanted
        if wanted == "pupil":
            allowed = can(Actor(device=device), Action.LIVE_PUPIL, loan)
        else:
            # A pupil tablet's credential never opens the class side, even if a teacher is
            # signed in on the same browser: the class side is the person or the kit.
            if device is not None and device.kind != "class_station":
                device = None
            allowed = can(Actor(user=user, device=device), Action.LIVE_CLASS_STATION, loan)
        if not allowed:
            return None
        self.device, self.user = device, user
        if device is not None:
            credential_touch(device)
        return wanted

    async def _hello_timeout(self):
        if not self.greeted:
            await self._fail("hello_required", "Send hello first.", CLOSE_HELLO_TIMEOUT)

    async def disconnect(self, code):
        self._stop_timers()
        # "left": the person chose to leave (media stops); "lost": the signalling was cut
        # (a network change, a server restart) and the media may well go on meanwhile.
        await self._cleanup("left" if self.leaving or code == 1000 else "lost")

    async def _cleanup(self, reason: str):
        """Leave the group, tell the peer, close the attendance: once, whatever fails."""
        if self.cleaned_up or not self.greeted:
            return
        self.cleaned_up = True
        group = loan_group(self.loan_id)
        bye = {"type": "peer.bye", "side": self.side, "channel": self.channel_name}
        bye["reason"] = reason
        try:
            await layer_call(self.channel_layer.group_discard, group, self.channel_name)
            await layer_call(self.channel_layer.group_send, group, bye)
        except LAYER_ERRORS as exc:
            # The layer is down: the peer's consumer loses it too and its client reconnects;
            # the records are still closed below.
            log.info("live bye not sent side=%s error=%s", self.side, type(exc).__name__)
        finally:
            await self._leave_session()

    # Presence ------------------------------------------------------------------------

    async def _beat(self):
        """Refresh this connection's last sign of life; take the side back if the sweep
        closed the row under a live socket (the server stalled longer than the stale delay)."""
        while True:
            await asyncio.sleep(settings.LIVE["HEARTBEAT_SECONDS"])
            await self._touch_safely()

    async def _touch_safely(self):
        try:
            await self._touch()
        except Exception:  # a database hiccup: the next beat tries again
            log.exception("live heartbeat failed side=%s", self.side)

    async def _touch(self):
        attendance = self.attendance
        if attendance is None:
            return
        self.touch_stamp = time.monotonic()
        if await database_sync_to_async(services.attendance_touch)(attendance_id=attendance.pk):
            return
        session_id = self.session_id
        if session_id is None or self.attendance is not attendance:
            return  # left or moved on meanwhile
        resumed = await database_sync_to_async(services.attendance_resume)(
            session_id=session_id, side=self.side
        )
        if resumed is not None and self.attendance is attendance:
            self.attendance = resumed

    def _touch_soon(self):
        """A message is a sign of life: refresh it, at most every TOUCH_MIN_INTERVAL_S, in
        the background so the message is not delayed by the write."""
        if self.attendance is None or time.monotonic() - self.touch_stamp < TOUCH_MIN_INTERVAL_S:
            return
        if self.touching is not None and not self.touching.done():
            return
        self.touch_stamp = time.monotonic()
        self.touching = asyncio.ensure_future(self._touch_safely())

    # Receiving from the client -------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.LIVE["MAX_MESSAGE_BYTES"]:
            await self._fail("too_big", "The message is too large.", CLOSE_TOO_BIG)
            return
        if not self.bucket.take():
            await self._fail("rate_limited", "Too many messages.", CLOSE_TOO_MANY)
            return
        if text_data is None:
            await self._refuse("bad_message", "Messages are JSON text, not binary.")
            return
        try:
            message = protocol.parse(text_data)
        except protocol.ProtocolError as exc:
            await self._refuse(exc.code, exc.message)
            return
        if not self.greeted and message.type != "hello":
            await self._fail("hello_required", "Send hello first.", CLOSE_BAD_HANDSHAKE)
            return
        if self.side not in protocol.SENDERS[message.type]:
            await self._refuse("not_allowed", f"The {self.side} side may not send this.")
            return
        handler = getattr(self, f"on_{message.type}", None) or self.on_relayed
        await handler(message)
        self._touch_soon()

    async def on_hello(self, message: protocol.Hello):
        if self.greeted:
            await self._refuse("bad_message", "Hello was already received.")
            return
        if message.version != protocol.PROTOCOL_VERSION:
            await self._fail(
                "unsupported_version",
                f"This server speaks version {protocol.PROTOCOL_VERSION}.",
                CLOSE_BAD_HANDSHAKE,
            )
            return
        self.greeted = True
        self.hello_timer.cancel()
        # A tablet revoked between its handshake and its hello was not in the loan's group
        # yet, so the revocation event missed it: check again before welcoming it.
        if self.device is not None and await self._device_revoked():
            await self._fail("revoked", "This device is no longer paired.", CLOSE_REVOKED)
            return
        # Join the loan's group before reading the session, so a session started meanwhile
        # is not missed: its event is handled after this welcome.
        await layer_call(self.channel_layer.group_add, loan_group(self.loan_id), self.channel_name)
        info = await self._loan_info()
        session = await database_sync_to_async(services.open_session)(self.loan_id)
        await self.send_json(
            {
                "type": "welcome",
                "version": protocol.PROTOCOL_VERSION,
                "side": self.side,
                "loan": self.loan_id,
                "polite": self.side == "pupil",
                "session": _session_json(session),
                "ice_servers": self._ice_servers(session),
                "ice_transport_policy": settings.LIVE["ICE_TRANSPORT_POLICY"],
                **info,
            }
        )
        if session is not None:
            await self._join_session(session.pk)
        self.pc_id = message.pc
        await layer_call(
            self.channel_layer.group_send,
            loan_group(self.loan_id),
            {
                "type": "peer.hello",
                "side": self.side,
                "channel": self.channel_name,
                "pc": message.pc,
            },
        )

    async def on_start(self, message):
        loan = await database_sync_to_async(Loan.objects.get)(pk=self.loan_id)
        try:
            session = await database_sync_to_async(services.session_start)(
                loan=loan, by_user=self.user, by_device=self.device
            )
        except services.LiveError as exc:
            await self._refuse(exc.code, exc.message, strike=False, **exc.fields)
            return
        # The session.started event reaches the other side; this side is answered directly,
        # also when the session was already open (a teacher coming back), which has no event.
        if self.session_id != session.pk:
            await self._join_session(session.pk)
        await self.send_json(
            {
                "type": "session_started",
                "session": _session_json(session),
                "ice_servers": self._ice_servers(session),
            }
        )

    async def on_end(self, message):
        session = await database_sync_to_async(services.open_session)(self.loan_id)
        if session is None:
            await self._refuse("not_live", "No live session to end.", strike=False)
            return
        await database_sync_to_async(services.session_end)(session=session)

    async def on_leave(self, message):
        self.leaving = True
        await self.close(code=1000)

    async def on_ping(self, message: protocol.Ping):
        await self.send_json({"type": "pong", "id": message.id})

    async def on_signal(self, message: protocol.Signal):
        problem = message.check(self.side)
        if problem:
            await self._refuse("bad_message", problem)
            return
        if self.side == "class" and "kit" in self.peers:
            # Kit mode: the kit is the class's media side, a browser station may not offer.
            await self._refuse("kit_mode", "The kit's agent sends the class's media.", strike=False)
            return
        if message.pc is not None:
            self.pc_id = message.pc
        await self._relay(message.model_dump(exclude_none=True))

    async def on_media(self, message: protocol.Media):
        await self._relay(message.model_dump())

    async def on_relayed(self, message):
        """Hand, floor, cues, chat, reactions, pause, economy, the kit's state and mask:
        relayed, stamped, not stored."""
        await self._relay({**message.model_dump(), "at": _now_iso()})

    async def on_chat(self, message: protocol.Chat):
        text = message.text.strip()
        if not text:
            await self._refuse("bad_message", "A chat message needs some text.")
            return
        await self._relay({"type": "chat", "text": text, "at": _now_iso()})

    async def on_quality(self, message: protocol.Quality):
        # The other side shows the level and its reasons; the session keeps aggregates for
        # reports and support (never the raw samples).
        await self._relay(
            {"type": "quality", "level": message.level, "reasons": message.reasons},
            message_type="quality",
        )
        now = time.monotonic()
        if self.session_id is not None and now - self.quality_stamp >= QUALITY_MIN_INTERVAL_S:
            self.quality_stamp = now
            await database_sync_to_async(services.quality_record)(
                session_id=self.session_id, side=self.side, sample=message
            )

    def _targets(self, message_type: str) -> list[str]:
        """The channels a message of this side goes to (``protocol.ROUTES``)."""
        channels = []
        for target in protocol.ROUTES.get((message_type, self.side), ()):
            if target == "media":
                target = "kit" if "kit" in self.peers else "class"
            if target in self.peers:
                channels.append(self.peers[target])
        return channels

    async def _relay(self, payload: dict, message_type: str | None = None):
        if self.session_id is None:
            await self._refuse("not_live", "No live session: nothing is relayed.", strike=False)
            return
        targets = self._targets(message_type or payload["type"])
        if not targets:
            await self._refuse("no_peer", "The other side is not connected.", strike=False)
            return
        for channel in targets:
            await layer_call(
                self.channel_layer.send,
                channel,
                {"type": "peer.relay", "from": self.side, "payload": payload},
            )

    # Messages from the channel layer -------------------------------------------------

    async def peer_hello(self, event):
        if event["channel"] == self.channel_name:
            return
        if event["side"] == self.side:
            # The same side connected again (a second tab, a reloaded tablet): the newest
            # connection wins, so a forgotten tab cannot hold the link.
            await self._fail("replaced", "This side connected elsewhere.", CLOSE_REPLACED)
            return
        await layer_call(
            self.channel_layer.send,
            event["channel"],
            {
                "type": "peer.here",
                "side": self.side,
                "channel": self.channel_name,
                "pc": self.pc_id,
            },
        )
        await self._peer_joined(event)

    async def peer_here(self, event):
        if event["side"] == self.side:
            return
        await self._peer_joined(event)

    async def peer_bye(self, event):
        side = event["side"]
        if self.peers.get(side) != event["channel"]:
            return
        del self.peers[side]
        self.peer_pcs.pop(side, None)
        reason = event.get("reason", "lost")
        if self.side == "class" and side == "kit":
            await self.send_json({"type": "kit_presence", "online": False, "reason": reason})
        elif self.side == "pupil" and side == "class" and "kit" in self.peers:
            return  # kit mode: the pupil's class side is the kit, still there
        else:
            # To the pupil, the kit is its class side (its page works as with a station).
            shown = "class" if side == "kit" else side
            await self.send_json({"type": "peer_left", "side": shown, "reason": reason})

    async def _peer_joined(self, event):
        """Note the other side and tell this client, as its side sees it ("Kit mode")."""
        side, pc = event["side"], event.get("pc")
        self.peers[side], self.peer_pcs[side] = event["channel"], pc
        if self.side == "class" and side == "kit":
            await self.send_json({"type": "kit_presence", "online": True})
        elif self.side == "pupil" and side == "class" and "kit" in self.peers:
            return  # kit mode: the pupil's class side is the kit
        else:
            shown = "class" if side == "kit" else side
            await self.send_json({"type": "peer_joined", "side": shown, "pc": pc})

    async def peer_relay(self, event):
        if self.session_id is None:
            return
        await self.send_json({**event["payload"], "from": event["from"]})

    async def session_started(self, event):
        if self.session_id == event["session_id"]:
            return
        await self._join_session(event["session_id"])
        session = await database_sync_to_async(LiveSession.objects.get)(pk=event["session_id"])
        await self.send_json(
            {
                "type": "session_started",
                "session": _session_json(session),
                "ice_servers": self._ice_servers(session),
            }
        )

    async def session_ended(self, event):
        if self.session_id != event["session_id"]:
            return
        self.session_id = None
        self.attendance = None  # closed by session_end itself
        await self.send_json(
            {"type": "session_ended", "session": event["session_id"], "reason": event["reason"]}
        )

    async def work_changed(self, event):
        # To every greeted connection of the loan, in a lesson or not (cartable/schoolwork).
        notice = protocol.WorkNotice(
            type="work", work=event["work_id"], change=event["change"], state=event["state"]
        )
        await self.send_json(notice.model_dump())

    async def credential_revoked(self, event):
        if self.device is not None and self.device.pk == event["credential_id"]:
            await self._fail("revoked", "This device is no longer paired.", CLOSE_REVOKED)

    # Helpers -------------------------------------------------------------------------

    def _ice_servers(self, session: LiveSession | None) -> list[dict]:
        # TURN credentials only inside a live session: a relay is for members of a lesson.
        return turn.ice_servers(session_id=session.pk if session else None, side=self.side)

    async def _join_session(self, session_id: int):
        await self._leave_session()
        self.session_id = session_id
        session = await database_sync_to_async(LiveSession.objects.get)(pk=session_id)
        self.attendance = await database_sync_to_async(services.attendance_join)(
            session=session, side=self.side
        )

    async def _leave_session(self):
        if self.attendance is not None:
            await database_sync_to_async(services.attendance_leave)(attendance=self.attendance)
            self.attendance = None
        self.session_id = None

    @database_sync_to_async
    def _device_revoked(self) -> bool:
        return DeviceCredential.objects.filter(pk=self.device.pk, revoked_at__isnull=False).exists()

    @database_sync_to_async
    def _loan_info(self) -> dict:
        loan = Loan.objects.select_related("pupil", "school_class").get(pk=self.loan_id)
        if self.side == "kit":
            # The kit blurs faces on the class camera when classmates must stay out of frame.
            from cartable.consent.services import frame_reminder

            return {"peer_name": loan.pupil.display_name, "blur_faces": bool(frame_reminder(loan))}
        if self.side == "class":
            return {"peer_name": loan.pupil.display_name}
        return {"peer_name": loan.school_class.name}

    async def send_json(self, content: dict):
        if self.closing:
            return  # the hello timer may fire after a close; nothing may follow the close
        # The client may have gone while a peer event was being handled (ASGI servers raise
        # an OSError subclass): its disconnect is queued and runs the cleanup, which an
        # escaping exception would have skipped.
        with contextlib.suppress(OSError):
            await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def _refuse(self, code: str, message: str, *, strike: bool = True, **fields):
        """Answer a refused message with an error; close after too many invalid ones.

        A refusal that a correct client can meet in a race (the session ended or the peer
        left while its message was on the way) is no strike against it.
        """
        log.info("live refused message side=%s code=%s", self.side, code)
        if strike:
            self.strikes += 1
        await self.send_json(protocol.error(code, message, **fields))
        if self.strikes >= MAX_STRIKES:
            await self._fail("too_many_errors", "Too many invalid messages.", CLOSE_BAD_HANDSHAKE)

    async def _fail(self, code: str, message: str, close_code: int):
        log.info("live closing side=%s code=%s", self.side, code)
        await self.send_json(protocol.error(code, message))
        await self.close(code=close_code)


def _now_iso() -> str:
    return timezone.now().isoformat()


class RefusingConsumer(AsyncWebsocketConsumer):
    """Refuses a WebSocket on any path that is not a live link."""

    async def connect(self):
        await self.close(code=CLOSE_FORBIDDEN)


def _session_json(session: LiveSession | None):
    if session is None:
        return None
    return {"id": session.pk, "started_at": session.started_at.isoformat()}
