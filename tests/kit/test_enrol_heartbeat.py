"""The kit's agent against the real server: enrolment with the label's code, the credential
in a 0600 file, heartbeats with cameras, temperature and disk, commands and their results."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from cartable.fleet.models import Device, DeviceCommand, DeviceCredential, Kit
from cartable.fleet.services import credential_issue, enrolment_code_issue
from cartable_kit import cli, credential
from cartable_kit.agent import Agent, AgentOptions
from cartable_kit.deviceapi import ApiError, DeviceApi

HEARTBEAT = "/api/devices/heartbeat"


@pytest.fixture
def box(db):
    kit = Kit.objects.create(code="CC-K1-0001")
    return Device.objects.create(kit=kit, kind=Device.Kind.CLASS_BOX, serial="SN-KIT-0001")


def test_enrol_keeps_the_credential_in_a_file_only_its_user_reads(asgi_server, box, tmp_path):
    _, code = enrolment_code_issue(device=box)
    path = tmp_path / "kit" / "credential.json"
    argv = ["--credential", str(path), "enrol", "--server", asgi_server.url, "--code", code]
    assert cli.main([*argv, "--serial", box.serial]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    held = credential.load(path)
    assert held.device_id == box.pk and held.server == asgi_server.url
    assert DeviceCredential.objects.filter(device=box, kind="kit_device").count() == 1
    # The code served once.
    assert cli.main([*argv, "--serial", box.serial]) == 1


def test_a_credential_readable_by_others_is_refused(tmp_path):
    path = credential.save(credential.Credential("http://x", 1, "1.abc"), tmp_path / "c.json")
    os.chmod(path, 0o644)
    with pytest.raises(credential.CredentialError, match="0600"):
        credential.load(path)


def test_heartbeats_report_cameras_and_bring_commands_back(asgi_server, box, tmp_path):
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    held = credential.Credential(asgi_server.url, box.pk, token)
    agent = Agent(held, AgentOptions(heartbeat_only=True))
    agent.cameras_seen = lambda: ["usb-Cam_Board-video-index0", "usb-Cam_Class-video-index0"]

    assert asyncio.run(agent.heartbeat_once()) == []
    box.refresh_from_db()
    assert box.last_cameras == ["usb-Cam_Board-video-index0", "usb-Cam_Class-video-index0"]
    assert box.software_version == "0.1.0" and box.last_seen_at is not None

    diagnostic = DeviceCommand.objects.create(device=box, kind="network_diagnostic")
    image = DeviceCommand.objects.create(device=box, kind="test_image")
    commands = asyncio.run(agent.heartbeat_once())
    assert [c["kind"] for c in commands] == ["network_diagnostic", "test_image"]
    diagnostic.refresh_from_db()
    image.refresh_from_db()
    assert diagnostic.ok is True and "TCP 127.0.0.1" in diagnostic.result
    assert image.ok is True and "Mire" in image.result
    # Delivered once.
    assert asyncio.run(agent.heartbeat_once()) == []


def test_restart_stops_the_agent_for_systemd_to_start_it_again(asgi_server, box):
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    agent = Agent(credential.Credential(asgi_server.url, box.pk, token))
    command = DeviceCommand.objects.create(device=box, kind="restart")

    async def go():
        await agent.heartbeat_once()
        return agent.stopping.is_set()

    assert asyncio.run(go()) is True
    command.refresh_from_db()
    assert command.ok is True and command.done_at is not None


def test_a_device_may_not_report_another_devices_command(asgi_server, box):
    other = Device.objects.create(kit=box.kit, kind=Device.Kind.ROUTER_4G, serial="SN-4G-9")
    command = DeviceCommand.objects.create(device=other, kind="restart")
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    api = DeviceApi(asgi_server.url, token)
    with pytest.raises(ApiError) as refused:
        api.command_result(command.pk, ok=True, message="fait")
    assert refused.value.status == 404
    with pytest.raises(ApiError) as refused:
        DeviceApi(asgi_server.url, None).command_result(command.pk, ok=True, message="")
    assert refused.value.status == 401
    command.refresh_from_db()
    assert command.done_at is None


BEAT = {
    "software_version": "0.1.0",
    "network": "wired",
    "signal": None,
    "battery": None,
    "uptime_s": 5,
}


@pytest.mark.parametrize(
    "extra",
    [
        {"cameras": "usb-cam"},  # wrong type
        {"cameras": ["a\x00b"]},  # NUL
        {"cameras": ["x" * 121]},  # oversize
        {"cameras": [f"c{i}" for i in range(9)]},  # too many
        {"cameras": [["deep", ["deeper"]]]},  # nesting
        {"temperature_c": "40"},
        {"disk_free_pct": 101},
    ],
)
def test_bad_kit_fields_in_a_heartbeat_are_refused(client, box, extra):
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    response = client.post(
        HEARTBEAT,
        json.dumps({**BEAT, **extra}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422, response.content


@pytest.mark.parametrize(
    "body",
    [
        '{"ok": "yes"}',
        '{"ok": true, "message": "a\\u0000b"}',
        '{"ok": true, "message": "' + "x" * 2001 + '"}',
        '{"ok": true, "extra": 1}',
        "[[[[[[]]]]]]",
    ],
)
def test_bad_command_results_are_refused(client, box, body):
    token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]
    command = DeviceCommand.objects.create(device=box, kind="restart")
    response = client.post(
        f"/api/devices/commands/{command.pk}/result",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (400, 422), response.content
