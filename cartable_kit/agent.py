"""The agent: heartbeats every minute (with the commands they bring back), and the class
side of the loan's lessons (``live.KitLink``), both surviving network loss and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import urllib.parse
from dataclasses import dataclass, field

from . import __version__, system
from .credential import Credential
from .deviceapi import ApiError, DeviceApi

log = logging.getLogger("cartable_kit")

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0


def backoff(attempt: int, first: float = BACKOFF_FIRST_S, most: float = BACKOFF_MAX_S) -> float:
    """Exponential, capped, with jitter so a school's kits do not all retry at once."""
    delay = min(most, first * 2 ** min(attempt, 10))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


@dataclass
class AgentOptions:
    board: str = "auto"
    class_camera: str = "auto"
    loan: int | None = None
    heartbeat_only: bool = False
    heartbeat_interval_s: float | None = None  # tests beat faster
    # Tests: offer 127.0.0.1 as an ICE candidate (aioice leaves loopback out).
    loopback_ice: bool = False
    audio_sink: object = None  # tests: where the pupil's voice goes (else the speaker)
    extra: dict = field(default_factory=dict)


class Agent:
    def __init__(self, held: Credential, options: AgentOptions | None = None):
        self.credential = held
        self.options = options or AgentOptions()
        self.api = DeviceApi(held.server, held.token)
        self.results: list[dict] = []  # what the commands did (for tests and logs)
        self.stopping = asyncio.Event()
        self.link = None
        self.beats = 0

    def cameras_seen(self) -> list[str]:
        if self.link is not None:
            return self.link.camera_names()
        return system.cameras()

    def report(self) -> dict:
        return system.heartbeat_report(__version__, self.cameras_seen())

    async def heartbeat_once(self) -> list[dict]:
        commands = await asyncio.to_thread(self.api.heartbeat, self.report())
        self.beats += 1
        for command in commands:
            await self.execute(command)
        return commands

    async def heartbeats(self):
        interval = self.options.heartbeat_interval_s or self.credential.heartbeat_interval_s
        attempt = 0
        while not self.stopping.is_set():
            try:
                await self.heartbeat_once()
                attempt = 0
                wait = interval
            except ApiError as exc:
                log.warning("heartbeat refused: %s", exc)
                wait = exc.status == 429 and 60 or backoff(attempt)
                attempt += 1
            except OSError as exc:
                log.info("heartbeat failed (%s), retrying", exc)
                wait = backoff(attempt)
                attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), wait)

    async def execute(self, command: dict):
        kind = command.get("kind")
        try:
            if kind == "network_diagnostic":
                ok, message = await asyncio.to_thread(network_diagnostic, self.credential.server)
            elif kind == "test_image":
                ok, message = await self.test_image()
            elif kind == "restart":
                ok, message = True, "Agent redémarré."
            else:
                ok, message = False, f"Commande inconnue : {kind}"
        except Exception as exc:  # a command never kills the agent
            ok, message = False, f"Échec : {exc}"
        self.results.append({"id": command.get("id"), "kind": kind, "ok": ok, "message": message})
        with contextlib.suppress(ApiError, OSError):
            await asyncio.to_thread(self.api.command_result, command["id"], ok=ok, message=message)
        if kind == "restart":
            await self.restart()

    async def test_image(self) -> tuple[bool, str]:
        from .media import TestPattern

        frame = TestPattern(640, 360, label="cartable-kit").frame_at(0)
        return True, f"Mire de test produite ({frame.width}x{frame.height})."

    async def restart(self):
        """Exit; systemd (Restart=always) starts the agent again."""
        log.info("restarting at the platform's request")
        self.restart_requested = True
        self.stopping.set()

    async def loan(self) -> int | None:
        if self.options.loan is not None:
            return self.options.loan
        try:
            return (await asyncio.to_thread(self.api.me)).get("loan")
        except (ApiError, OSError):
            return None

    async def lessons(self):
        from .live import KitLink

        attempt = 0
        while not self.stopping.is_set():
            loan = await self.loan()
            if loan is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), backoff(attempt, 5, 60))
                attempt += 1
                continue
            attempt = 0
            self.link = KitLink(self.credential, loan, self.options)
            try:
                await self.link.run(self.stopping)
            finally:
                await self.link.close()

    async def run(self):
        tasks = [asyncio.create_task(self.heartbeats())]
        if not self.options.heartbeat_only:
            tasks.append(asyncio.create_task(self.lessons()))
        try:
            await self.stopping.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def network_diagnostic(server: str) -> tuple[bool, str]:
    """Name resolution, a TCP connection and an HTTPS/HTTP answer from the platform."""
    parts = urllib.parse.urlsplit(server)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    lines = []
    try:
        started = time.monotonic()
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        lines.append(f"DNS {host} : {addresses[0][4][0]} ({_ms(started)} ms)")
        started = time.monotonic()
        with socket.create_connection((host, port), timeout=5):
            lines.append(f"TCP {host}:{port} : ouvert ({_ms(started)} ms)")
    except OSError as exc:
        lines.append(f"Échec : {exc}")
        return False, "\n".join(lines)
    lines.append(f"Réseau : {system.network()}")
    lines.append(f"Interfaces : {', '.join(sorted(os.listdir('/sys/class/net')))}")
    return True, "\n".join(lines)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
