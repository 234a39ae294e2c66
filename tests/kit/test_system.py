"""What the kit reports of itself, read from a fake /dev/v4l and /sys, and its backoff."""

from __future__ import annotations

from cartable_kit import system
from cartable_kit.agent import BACKOFF_MAX_S, backoff


def test_cameras_by_stable_name_one_per_camera(tmp_path):
    for name in [
        "usb-Logi_Board-video-index0",
        "usb-Logi_Board-video-index1",
        "usb-Cam_Class-video-index0",
    ]:
        (tmp_path / name).touch()
    assert system.cameras(tmp_path) == ["usb-Cam_Class-video-index0", "usb-Logi_Board-video-index0"]
    assert system.cameras(tmp_path / "absent") == []


def test_network_kind_from_the_interface_that_is_up(tmp_path):
    def interface(name, state, wireless=False):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "operstate").write_text(state + "\n")
        if wireless:
            (folder / "wireless").mkdir()

    interface("lo", "unknown")
    interface("eth0", "down")
    interface("wlan0", "up", wireless=True)
    assert system.network(tmp_path) == "wifi"
    (tmp_path / "wlan0" / "operstate").write_text("down\n")
    interface("wwan0", "up")
    assert system.network(tmp_path) == "4g"


def test_temperature_when_known(tmp_path):
    assert system.temperature_c(tmp_path) is None
    (tmp_path / "thermal_zone0").mkdir()
    (tmp_path / "thermal_zone0" / "temp").write_text("47500\n")
    assert system.temperature_c(tmp_path) == 47.5
    (tmp_path / "thermal_zone0" / "temp").write_text("garbage\n")
    assert system.temperature_c(tmp_path) is None


def test_the_heartbeat_report_fits_the_device_api():
    report = system.heartbeat_report("0.1.0", ["usb-a-video-index0"] * 12)
    assert len(report["cameras"]) == 8
    assert report["network"] in {"wifi", "4g", "wired"}
    assert report["disk_free_pct"] is None or 0 <= report["disk_free_pct"] <= 100


def test_backoff_grows_is_capped_and_jittered():
    delays = [backoff(attempt) for attempt in range(12)]
    assert all(0 < d <= BACKOFF_MAX_S for d in delays)
    assert max(delays[8:]) > max(delays[:2])
