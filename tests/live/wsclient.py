"""A signalling client over a real socket, written once for the live link's tests.

Each ``Link`` is one participant's WebSocket to the server started by ``asgi_server``
(uvicorn on 127.0.0.1), opened with the websockets library as a browser or the kit agent
would: with an ``Origin`` header, a session cookie, a device cookie or a Bearer token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from contextlib import ExitStack

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from cartable.live.protocol import PROTOCOL_VERSION

from ..conftest import force_login

WAIT = 5.0  # seconds to wait for something that must happen
QUIET = 0.3  # seconds of silence that stand for "nothing arrives"


def session_cookie(user) -> str:
    """A signed-in session for ``user``, saved in the database the server reads."""
    client = Client()
    force_login(client, user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def handshake_headers(*, user=None, device: str | None = None, bearer: str | None = None):
    cookies = []
    if user is not None:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session_cookie(user)}")
    if device is not None:
        cookies.append(f"{settings.DEVICE_COOKIE_NAME}={device}")
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return headers


class Link:
    """One side's signalling connection, with assertions that read like the protocol."""

    def __init__(self, ws, side: str, label: str):
        self.ws = ws
        self.side = side
        self.label = label
        self.pending: deque[dict] = deque()  # read ahead by roundtrip(), not yet expected

    def __repr__(self) -> str:
        return f"<Link {self.label}>"

    # Sending -------------------------------------------------------------------------

    def send(self, type: str, **fields) -> None:
        self.ws.send(json.dumps({"type": type, **fields}))

    def send_raw(self, data: str | bytes) -> None:
        self.ws.send(data)

    def hello(self, version: int = PROTOCOL_VERSION) -> dict:
        """Say hello; the welcome, once the server has finished handling the hello."""
        self.send("hello", version=version, client="tests")
        welcome = self.expect("welcome")
        # The server announces this side to the other after the welcome: wait until that
        # is done, so the test's next step does not race with it.
        self.roundtrip()
        return welcome

    # Receiving -----------------------------------------------------------------------

    def receive(self, timeout: float = WAIT) -> dict:
        if self.pending:
            return self.pending.popleft()
        try:
            data = self.ws.recv(timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"{self.label}: nothing arrived within {timeout}s") from None
        except ConnectionClosed as exc:
            raise AssertionError(f"{self.label}: closed ({close_code(exc)}) instead") from None
        return json.loads(data)

    def expect(self, type: str, **fields) -> dict:
        """The next message is of ``type`` (and has ``fields``, when given)."""
        message = self.receive()
        assert message["type"] == type, f"{self.label} got {message}, expected {type}"
        for name, value in fields.items():
            assert message.get(name) == value, f"{self.label} got {message}"
        return message

    def expect_error(self, code: str) -> dict:
        return self.expect("error", code=code)

    def expect_close(self) -> int:
        """The next thing is the server closing the connection: its close code."""
        assert not self.pending, f"{self.label} got {list(self.pending)} before the close"
        try:
            data = self.ws.recv(timeout=WAIT)
        except ConnectionClosed as exc:
            return close_code(exc)
        except TimeoutError:
            raise AssertionError(f"{self.label}: still open after {WAIT}s") from None
        raise AssertionError(f"{self.label}: got {data!r} instead of the close")

    def drain_until_closed(self) -> tuple[list[dict], int]:
        """Every message up to the server's close, and the close code."""
        messages = list(self.pending)
        self.pending.clear()
        while True:
            try:
                data = self.ws.recv(timeout=WAIT)
            except ConnectionClosed as exc:
                return messages, close_code(exc)
            except TimeoutError:
                raise AssertionError(f"{self.label}: still open; got {messages}") from None
            messages.append(json.loads(data))

    def expect_nothing(self, wait: float = QUIET) -> None:
        """Nothing arrives for a short while (use only where no later message can prove it)."""
        assert not self.pending, f"{self.label} got {list(self.pending)}, expected nothing"
        try:
            data = self.ws.recv(timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"{self.label} got {data!r}, expected nothing")

    def roundtrip(self) -> None:
        """Ping and wait for the pong: everything sent before has been handled.

        Messages that arrive before the pong are kept for the next ``expect``.
        """
        self.send("ping", id=4242)
        seen = []
        while True:
            message = self.receive()
            if message == {"type": "pong", "id": 4242}:
                break
            seen.append(message)
        self.pending.extend(seen)

    def close(self) -> None:
        self.ws.close()


def close_code(exc: ConnectionClosed) -> int | None:
    return exc.rcvd.code if exc.rcvd is not None else None


class Links:
    """Opens links to one server and closes whatever is left open at the end of a test."""

    def __init__(self, server):
        self.server = server
        self.opened: list[Link] = []
        self.stack = ExitStack()

    def url(self, loan_id, side: str) -> str:
        return f"{self.server.ws_url}/ws/live/{loan_id}/{side}/"

    def _connect(
        self, loan_id, side, *, origin=None, user=None, device=None, bearer=None, path=None
    ):
        connecting = connect(
            f"{self.server.ws_url}{path}" if path else self.url(loan_id, side),
            origin=origin or self.server.url,
            additional_headers=handshake_headers(user=user, device=device, bearer=bearer),
            open_timeout=WAIT,
            close_timeout=WAIT,
            legacy=False,
        )
        return self.stack.enter_context(connecting)

    def open(self, loan_id, side: str, **credentials) -> Link:
        ws = self._connect(loan_id, side, **credentials)
        link = Link(ws, side, f"{side}#{len(self.opened)}")
        self.opened.append(link)
        return link

    def refused(self, loan_id, side: str, **credentials) -> int:
        """The handshake is refused: the HTTP status the server answered."""
        try:
            self._connect(loan_id, side, **credentials)
        except InvalidStatus as exc:
            return exc.response.status_code
        pytest.fail(f"the {side} side of loan {loan_id} was accepted")

    def refused_path(self, path: str) -> int:
        """A handshake on ``path`` is refused: the HTTP status the server answered."""
        try:
            self._connect(None, None, path=path)
        except InvalidStatus as exc:
            return exc.response.status_code
        pytest.fail(f"{path} was accepted")

    def close_all(self) -> None:
        self.stack.close()


def wait_until(predicate, timeout: float = WAIT):
    """Poll ``predicate`` (a database read, say) until it is true; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def on_server(server, fn, /, *args, **kwargs):
    """Run ``fn`` (sync, touching the database) inside the server, as one of its views would.

    Server events then leave from the server's own event loop: the in-memory channel layer
    is not thread-safe, so a test thread must not send to it while consumers wait on it.
    """
    loop = server.server.servers[0].get_loop()
    call = database_sync_to_async(fn)(*args, **kwargs)
    return asyncio.run_coroutine_threadsafe(call, loop).result(timeout=WAIT)
