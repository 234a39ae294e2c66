"""Pluggable hooks for the kit's hardware: the on-air light and the hand-raised sound.

- On-air light: ``CARTABLE_KIT_ONAIR_GPIO=<n>`` drives a GPIO line through sysfs, or
  ``CARTABLE_KIT_ONAIR_COMMAND="cmd"`` runs ``cmd on`` / ``cmd off`` (a USB light's tool).
  Without either, nothing (the teacher's tablet always shows « À l'antenne »).
- Hand raised: ``aplay`` plays a short chime on the kit's speaker when it is installed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("cartable_kit.onair")


def default_light():
    gpio = os.environ.get("CARTABLE_KIT_ONAIR_GPIO")
    command = os.environ.get("CARTABLE_KIT_ONAIR_COMMAND")
    state = {"on": None}

    def light(on: bool):
        if state["on"] == on:
            return
        state["on"] = on
        try:
            if gpio:
                Path(f"/sys/class/gpio/gpio{int(gpio)}/value").write_text("1" if on else "0")
            elif command:
                subprocess.run([*command.split(), "on" if on else "off"], check=False, timeout=5)  # noqa: S603
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            log.warning("on-air light: %s", exc)

    return light


def chime(path: Path) -> Path:
    """A short two-tone chime, written once (nothing shipped, nothing downloaded)."""
    if not path.exists():
        import math
        import struct
        import wave

        rate = 16_000
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            frames = bytearray()
            for tone, length in ((880, 0.15), (660, 0.25)):
                for i in range(int(rate * length)):
                    fade = 1 - i / (rate * length)
                    value = int(12_000 * fade * math.sin(2 * math.pi * tone * i / rate))
                    frames += struct.pack("<h", value)
            out.writeframes(bytes(frames))
    return path


def hand_sound():
    """A raised hand: a chime on the kit's speaker (when ALSA's aplay is there)."""
    player = shutil.which("aplay")
    if player:
        path = chime(Path(os.environ.get("XDG_RUNTIME_DIR", "/tmp")) / "cartable-kit-chime.wav")  # noqa: S108
        subprocess.Popen([player, "-q", str(path)])  # noqa: S603
