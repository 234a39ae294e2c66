"""What the kit knows of itself, for its heartbeats: cameras, network, temperature, disk."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

V4L_BY_ID = Path("/dev/v4l/by-id")


def cameras(root: Path = V4L_BY_ID) -> list[str]:
    """The cameras plugged in, by their stable names (one per camera: its first node)."""
    try:
        names = sorted(p.name for p in root.iterdir())
    except OSError:
        return []
    return [n for n in names if n.endswith("-video-index0")][:8]


def network(root: Path = Path("/sys/class/net")) -> str:
    """The device API's network kinds: wifi, 4g or wired (the first interface that is up)."""
    try:
        interfaces = sorted(root.iterdir())
    except OSError:
        return "wired"
    for interface in interfaces:
        if interface.name == "lo":
            continue
        try:
            state = (interface / "operstate").read_text().strip()
        except OSError:
            continue
        if state != "up":
            continue
        if (interface / "wireless").exists():
            return "wifi"
        if interface.name.startswith(("wwan", "usb", "ppp")):
            return "4g"
        return "wired"
    return "wired"


def temperature_c(root: Path = Path("/sys/class/thermal")) -> float | None:
    try:
        raw = (root / "thermal_zone0" / "temp").read_text().strip()
        value = int(raw) / 1000
    except (OSError, ValueError):
        return None
    return round(value, 1) if -50 <= value <= 150 else None


def disk_free_pct(path: str = "/") -> int | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return round(100 * usage.free / usage.total) if usage.total else None


def uptime_s() -> int:
    try:
        return int(float(Path("/proc/uptime").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return int(time.monotonic())


def serial() -> str:
    """The machine's serial number, as on the kit's label, when the hardware tells it."""
    for candidate in ("/proc/device-tree/serial-number", "/sys/class/dmi/id/product_serial"):
        try:
            value = Path(candidate).read_text().strip("\x00 \n")
        except OSError:
            continue
        if value:
            return value
    return ""


def heartbeat_report(version: str, camera_names: list[str] | None = None) -> dict:
    return {
        "software_version": version,
        "network": network(),
        "signal": None,
        "battery": None,
        "uptime_s": uptime_s(),
        "cameras": cameras() if camera_names is None else camera_names[:8],
        "temperature_c": temperature_c(),
        "disk_free_pct": disk_free_pct(),
    }
