"""Remote management of a kit's agent from its fleet page: what the agent reported, the
three actions, their results; refused to anyone but the fleet team."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cartable.fleet.models import Device, DeviceCommand, DeviceCredential, Kit
from cartable.fleet.services import credential_issue

from ..conftest import force_login


@pytest.fixture
def box(db):
    kit = Kit.objects.create(code="CC-K2-0002")
    return Device.objects.create(
        kit=kit,
        kind=Device.Kind.CLASS_BOX,
        serial="SN-KIT-0002",
        software_version="0.1.0",
        last_seen_at=timezone.now(),
        last_cameras=["usb-Board_Cam-video-index0", "usb-Class_Cam-video-index0"],
        last_temperature_c=47.5,
        last_disk_free_pct=81,
    )


def url(box):
    return reverse("fleet:device_command", args=[box.pk])


def test_the_fleet_sees_the_agent_and_asks_for_each_action(client, fleet, box):
    force_login(client, fleet)
    page = client.get(reverse("fleet:kit", args=[box.kit_id])).content.decode()
    assert "usb-Class_Cam-video-index0" in page and "47,5 °C" in page and "81 %" in page
    for kind, label in DeviceCommand.Kind.choices:
        assert escape(label) in page
        response = client.post(url(box), {"kind": kind})
        assert response.status_code == 302
    assert sorted(DeviceCommand.objects.values_list("kind", flat=True)) == sorted(
        DeviceCommand.Kind.values
    )
    # The agent gets them with its next heartbeat and reports; the page shows the result.
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    beat = {
        "software_version": "0.1.0",
        "network": "wired",
        "signal": None,
        "battery": None,
        "uptime_s": 9,
        "cameras": [],
    }
    answer = client.post(
        "/api/devices/heartbeat",
        json.dumps(beat),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 200
    diagnostic = DeviceCommand.objects.get(kind="network_diagnostic")
    assert {"id": diagnostic.pk, "kind": "network_diagnostic"} in answer.json()["commands"]
    client.post(
        f"/api/devices/commands/{diagnostic.pk}/result",
        json.dumps({"ok": True, "message": "DNS cartable.example.org : 192.0.2.1 (3 ms)"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    page = client.get(reverse("fleet:kit", args=[box.kit_id])).content.decode()
    assert "réussi" in page and "192.0.2.1 (3 ms)" in page


def test_others_may_not_ask_the_agent_anything(client, box, teacher, coordinator):
    assert client.post(url(box), {"kind": "restart"}).status_code == 302  # to sign in
    for person in (teacher, coordinator):
        force_login(client, person)
        assert client.post(url(box), {"kind": "restart"}).status_code == 404
    assert not DeviceCommand.objects.exists()


def test_only_a_posted_known_action_for_a_class_box(client, fleet, box):
    force_login(client, fleet)
    assert client.get(url(box)).status_code == 405
    for kind in ["", "reboot", "x" * 10_000, "['restart']"]:
        assert client.post(url(box), {"kind": kind}).status_code == 302
    # A NUL byte is refused before any view, with the French bad-request page.
    response = client.post(url(box), {"kind": "restart\x00"})
    assert response.status_code == 400
    assert "Caractère nul" in response.content.decode()
    router = Device.objects.create(kit=box.kit, kind=Device.Kind.ROUTER_4G, serial="SN-R-2")
    assert client.post(url(router), {"kind": "restart"}).status_code == 302
    assert not DeviceCommand.objects.exists()
    assert (
        client.post(reverse("fleet:device_command", args=[99999]), {"kind": "restart"}).status_code
        == 404
    )
