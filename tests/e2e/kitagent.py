"""The kit's agent (cartable_kit) in a thread of its own, for the browser tests: enrolled
with its label's code through the real device API, with synthetic cameras."""

from __future__ import annotations

import asyncio
import threading
import time

from cartable.fleet.models import Device
from cartable.fleet.services import enrolment_code_issue
from cartable_kit import cli, credential
from cartable_kit.agent import Agent, AgentOptions
from cartable_kit.live import AudioSink

SMALL = {"width": 640, "height": 360, "fps": 15}  # two cameras on a shared 2-core machine


class AgentThread:
    def __init__(self, server, loan, tmp_path, *, serial="SN-KIT-E2E", blur=None, **extra):
        self.box = Device.objects.filter(serial=serial).first() or Device.objects.create(
            kit=loan.kit, kind=Device.Kind.CLASS_BOX, serial=serial
        )
        _, code = enrolment_code_issue(device=self.box)
        path = tmp_path / "credential.json"
        argv = ["--credential", str(path), "enrol", "--server", server.url, "--code", code]
        assert cli.main([*argv, "--serial", serial]) == 0
        self.credential = credential.load(path)
        self.sink = AudioSink()
        self.hands = []
        self.lights = []
        options = AgentOptions(
            loan=loan.pk,
            heartbeat_interval_s=15,
            loopback_ice=True,
            audio_sink=self.sink,
            extra={
                "board_source": "test:",
                "class_source": "test:",
                "size": SMALL,
                "on_hand": lambda: self.hands.append(time.monotonic()),
                "light": self.lights.append,
                **({"blur": blur} if blur else {}),
                **extra,
            },
        )
        self.agent = Agent(self.credential, options)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.agent.run())

    def start(self):
        self.thread.start()
        return self

    @property
    def link(self):
        return self.agent.link

    def events(self) -> list[str]:
        link = self.agent.link
        return [e["event"] for e in list(link.events)] if link else []

    def call(self, coroutine_function, *args):
        """Run a coroutine on the agent's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine_function(*args), self.loop)
        return future.result(timeout=10)

    def stop(self):
        self.loop.call_soon_threadsafe(self.agent.stopping.set)
        self.thread.join(timeout=15)
