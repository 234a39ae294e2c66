"""The device API through its real endpoints: enrolment with a one-time code, heartbeats with
the device's own credential, what the device may read of itself."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartable.fleet.api import HEARTBEATS_PER_MINUTE
from cartable.fleet.models import Device, DeviceCredential, EnrolmentCode, Heartbeat, Kit
from cartable.fleet.services import (
    credential_authenticate,
    credential_issue,
    credential_revoke,
    enrolment_code_issue,
)

from ..conftest import force_login

ENROL, HEARTBEAT, ME = "/api/devices/enrol", "/api/devices/heartbeat", "/api/devices/me"
BEAT = {
    "software_version": "5.2.1",
    "network": "4g",
    "signal": 62,
    "battery": 80,
    "uptime_s": 3600,
}


@pytest.fixture
def device(db):
    kit = Kit.objects.create(code="CC-G3-0142")
    return Device.objects.create(kit=kit, kind=Device.Kind.CLASS_BOX, serial="SN-ABC-0001")


@pytest.fixture
def code(device) -> str:
    return enrolment_code_issue(device=device)[1]


@pytest.fixture
def token(device) -> str:
    return credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=device)[1]


def enrol(client, serial, code, address="192.0.2.10"):
    return client.post(
        ENROL,
        {"serial": serial, "code": code},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def beat(client, token, body=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    payload = body if isinstance(body, str) else json.dumps(BEAT if body is None else body)
    return client.post(HEARTBEAT, payload, content_type="application/json", **headers, **extra)


def me(client, token):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


# Enrolment ---------------------------------------------------------------------------------


def test_the_code_is_sixteen_unambiguous_characters_shown_in_groups(device, code):
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert not set("".join(groups)) & set("01OILUV")
    stored = EnrolmentCode.objects.get(device=device)
    assert code.replace("-", "") not in stored.code_hash  # only a hash is kept
    assert stored.expires_at > timezone.now() + timedelta(days=300)


def test_a_device_enrols_once_and_gets_its_own_credential(client, device, code):
    # Typed by hand: lower case, spaces instead of dashes; the serial in another case.
    response = enrol(client, "sn-abc-0001", code.lower().replace("-", " "))
    assert response.status_code == 201
    body = response.json()
    assert body["device_id"] == device.pk
    assert body["heartbeat_interval_s"] == 60
    credential = credential_authenticate(body["token"])
    assert credential.kind == DeviceCredential.Kind.KIT_DEVICE
    assert credential.device == device
    device.refresh_from_db()
    assert device.enrolled_at is not None
    assert EnrolmentCode.objects.get(device=device).used_at is not None

    # Its token works at once.
    assert beat(client, body["token"]).status_code == 204
    assert me(client, body["token"]).json()["serial"] == "SN-ABC-0001"


def assert_refused(response):
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "enrolment_refused"
    # One message whatever was wrong: it does not tell which part.
    assert "numéro de série" in body["message"] and "équipe du parc" in body["message"]
    return body


def test_a_code_serves_once(client, device, code):
    assert enrol(client, device.serial, code).status_code == 201
    assert_refused(enrol(client, device.serial, code))
    assert DeviceCredential.objects.filter(device=device).count() == 1


def test_a_wrong_serial_is_refused_like_an_unknown_code_and_keeps_the_code(client, device, code):
    other = Device.objects.create(kind=Device.Kind.BOARD_CAMERA, serial="SN-OTHER")
    wrong_serial = assert_refused(enrol(client, other.serial, code))
    unknown_code = assert_refused(enrol(client, device.serial, "ABCD-EFGH-JKMN-PQRS"))
    malformed = assert_refused(enrol(client, device.serial, "ABC"))
    assert wrong_serial == unknown_code == malformed
    assert not DeviceCredential.objects.exists()
    device.refresh_from_db()
    assert device.enrolled_at is None
    # The right device may still use it.
    assert enrol(client, device.serial, code).status_code == 201


def test_an_expired_code_is_refused(client, device, code):
    later = timezone.now() + timedelta(days=settings.FLEET["ENROLMENT_VALID_DAYS"], minutes=1)
    with time_machine.travel(later, tick=False):
        assert_refused(enrol(client, device.serial, code))
    assert not DeviceCredential.objects.exists()


def test_a_new_code_replaces_the_unused_one(client, device, code):
    _, newer = enrolment_code_issue(device=device)
    assert_refused(enrol(client, device.serial, code))
    assert enrol(client, device.serial, newer).status_code == 201


def test_enrolling_again_revokes_the_previous_credential(client, device, code):
    first = enrol(client, device.serial, code).json()["token"]
    _, again = enrolment_code_issue(device=device)
    second = enrol(client, device.serial, again).json()["token"]
    assert beat(client, first).status_code == 401
    assert beat(client, second).status_code == 204
    assert DeviceCredential.objects.filter(device=device, revoked_at__isnull=True).count() == 1


def test_enrolment_tries_are_limited_per_address(client, device, code, settings):
    settings.FLEET = {**settings.FLEET, "ENROLMENT_TRIES_PER_10_MIN": 3}
    for _ in range(3):
        assert_refused(enrol(client, device.serial, "WRONG-CODE-0000-0000"))
    # Even the right code now waits: the address used up its tries.
    response = enrol(client, device.serial, code)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_tries"
    assert "Réessayez" in response.json()["message"]
    assert response["Retry-After"] == "600"
    assert not DeviceCredential.objects.exists()
    # Another address is not held back by the first one.
    assert enrol(client, device.serial, code, address="192.0.2.99").status_code == 201


def test_enrolment_input_is_validated(client, device, code):
    response = client.post(
        ENROL,
        {"serial": device.serial, "code": code, "kit": "CC-G3-0142"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "kit", "message": "Ce champ n'est pas attendu."}]
    response = client.post(ENROL, {"code": code}, content_type="application/json")
    assert response.json()["errors"] == [
        {"field": "serial", "message": "Ce champ est obligatoire."}
    ]
    assert not DeviceCredential.objects.exists()


# Heartbeats --------------------------------------------------------------------------------


def test_a_heartbeat_is_stored_and_the_device_is_online(client, device, token):
    assert not device.is_online()
    with CaptureQueriesContext(connection) as queries:
        response = beat(client, token)
    assert response.status_code == 204
    assert response.content == b""
    # Cheap: read the credential (with its device), insert the heartbeat, update the device.
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert [s for s in statements if s not in {"SAVEPOINT", "RELEASE"}] == [
        "SELECT",
        "INSERT",
        "UPDATE",
    ]
    row = Heartbeat.objects.get()
    assert (row.device, row.network, row.signal, row.battery, row.uptime_s) == (
        device,
        "4g",
        62,
        80,
        3600,
    )
    assert row.software_version == "5.2.1"
    device.refresh_from_db()
    assert device.is_online()
    assert device.last_seen_at == row.at
    assert (device.last_network, device.last_signal, device.last_battery) == ("4g", 62, 80)
    assert (device.last_uptime_s, device.software_version) == (3600, "5.2.1")


def test_signal_and_battery_may_be_unknown(client, device, token):
    assert (
        beat(
            client, token, {**BEAT, "network": "wired", "signal": None, "battery": None}
        ).status_code
        == 204
    )
    device.refresh_from_db()
    assert (device.last_network, device.last_signal, device.last_battery) == ("wired", None, None)


def test_the_device_reads_what_the_platform_knows_of_it(client, device, token):
    body = me(client, token).json()
    assert body["serial"] == "SN-ABC-0001"
    assert body["kind"] == "class_box"
    assert body["kit"] == "CC-G3-0142"
    assert body["last_seen_at"] is None and body["online"] is False
    beat(client, token)
    body = me(client, token).json()
    assert body["online"] is True
    assert body["software_version"] == "5.2.1"
    seen = timezone.now()
    later = seen + timedelta(seconds=settings.FLEET["ONLINE_WITHIN_S"] + 1)
    with time_machine.travel(later, tick=False):
        body = me(client, token).json()
    assert body["online"] is False
    assert body["last_seen_at"] is not None  # still says when it was last seen


def test_a_revoked_credential_is_refused(client, device, token):
    credential_revoke(credential=credential_authenticate(token))
    for response in (beat(client, token), me(client, token)):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert response["WWW-Authenticate"] == "Bearer"
    assert not Heartbeat.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer 1.forged", "Bearer ²7.abc", "Basic dXNlcjpwYXNz", "Token {token}"],
)
def test_a_missing_or_forged_token_is_refused(client, token, header):
    extra = {"HTTP_AUTHORIZATION": header.format(token=token)} if header else {}
    response = client.post(HEARTBEAT, json.dumps(BEAT), content_type="application/json", **extra)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["message"]
    assert not Heartbeat.objects.exists()


def test_a_persons_session_is_not_a_device(client, device, fleet):
    force_login(client, fleet)
    assert client.get("/").status_code == 200  # signed in, second factor done
    assert beat(client, None).status_code == 401
    assert client.get(ME).status_code == 401
    assert not Heartbeat.objects.exists()


def test_a_class_station_or_a_pupil_tablet_may_not_report_for_a_kit_device(
    client, device, station_token, pupil_token
):
    for token in (station_token, pupil_token):
        response = beat(client, token)
        assert response.status_code == 403
        assert response.json()["code"] == "not_a_kit_device"
        assert me(client, token).status_code == 403
    assert not Heartbeat.objects.exists()
    device.refresh_from_db()
    assert device.last_seen_at is None


def test_a_device_reports_only_for_itself(client, device, token):
    other = Device.objects.create(kind=Device.Kind.ROUTER_4G, serial="SN-ROUTER")
    beat(client, token)
    assert Heartbeat.objects.get().device == device
    other.refresh_from_db()
    assert other.last_seen_at is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"network": "lte"}, "network", "Valeur attendue : 'wifi', '4g' ou 'wired'."),
        ({"signal": 101}, "signal", "La valeur doit être au plus 100."),
        ({"battery": -1}, "battery", "La valeur doit être au moins 0."),
        ({"uptime_s": -5}, "uptime_s", "La valeur doit être au moins 0."),
        ({"uptime_s": 2**31}, "uptime_s", "La valeur doit être au plus 2147483647."),
        ({"signal": "50"}, "signal", "Un nombre entier est attendu."),
        ({"battery": 50.5}, "battery", "Un nombre entier est attendu."),
        ({"uptime_s": True}, "uptime_s", "Un nombre entier est attendu."),
        ({"software_version": ""}, "software_version", "1 caractère(s) au moins."),
        ({"software_version": "x" * 41}, "software_version", "40 caractères au plus."),
        ({"software_version": "5.2\x00"}, "software_version", "Caractères non autorisés"),
        ({"location": "Nice"}, "location", "Ce champ n'est pas attendu."),
        ({"uptime_s": None}, "uptime_s", "Un nombre entier est attendu."),
    ],
)
def test_a_bad_heartbeat_is_refused_with_a_clear_message(
    client, device, token, change, field, message
):
    response = beat(client, token, {**BEAT, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["message"]
    [error] = body["errors"]
    assert error["field"] == field
    assert error["message"].startswith(message)
    assert not Heartbeat.objects.exists()
    device.refresh_from_db()
    assert device.last_seen_at is None


def test_a_missing_field_or_body_or_bad_json_is_refused(client, device, token):
    partial = {key: value for key, value in BEAT.items() if key != "network"}
    response = beat(client, token, partial)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "network", "message": "Ce champ est obligatoire."}
    ]
    response = beat(client, token, "")
    assert response.status_code == 422
    assert "obligatoire" in response.json()["errors"][0]["message"]
    response = beat(client, token, "{not json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "message": "Le corps de la requête n'est pas du JSON valide.",
    }
    response = beat(client, token, "[1, 2]")
    assert response.status_code == 422
    assert not Heartbeat.objects.exists()


def test_heartbeats_are_limited_per_credential(client, device, token):
    for _ in range(HEARTBEATS_PER_MINUTE):
        assert beat(client, token).status_code == 204
    response = beat(client, token)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_heartbeats"
    assert response["Retry-After"] == "60"
    assert Heartbeat.objects.count() == HEARTBEATS_PER_MINUTE
    # Another device beats on.
    other = Device.objects.create(kind=Device.Kind.ROUTER_4G, serial="SN-ROUTER")
    _, other_token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=other)
    assert beat(client, other_token).status_code == 204


# The schema --------------------------------------------------------------------------------


def test_the_openapi_schema_describes_the_device_api_and_its_bearer_auth(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/devices/enrol", "/api/devices/heartbeat", "/api/devices/me"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["DeviceBearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    heartbeat = schema["paths"]["/api/devices/heartbeat"]["post"]
    assert heartbeat["security"] == [{"DeviceBearer": []}]
    assert {"204", "401", "403", "422", "429"} <= set(heartbeat["responses"])
    assert "security" not in schema["paths"]["/api/devices/enrol"]["post"]
    # No documentation page loading Swagger UI from a CDN.
    assert client.get("/api/docs").status_code == 404


# Through a real socket ---------------------------------------------------------------------


def _http(url, *, method="GET", body=None, token=None):
    request = urllib.request.Request(url, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_enrolment_and_heartbeats_over_a_real_socket(asgi_server):
    kit = Kit.objects.create(code="CC-V5-0001", generation=Kit.Generation.V5)
    device = Device.objects.create(kit=kit, kind=Device.Kind.ROUTER_4G, serial="SN-4G-77")
    _, code = enrolment_code_issue(device=device)
    base = asgi_server.url

    status, raw = _http(
        f"{base}{ENROL}", method="POST", body={"serial": device.serial, "code": code}
    )
    assert status == 201, raw
    token = json.loads(raw)["token"]

    # Several devices' worth of concurrent heartbeats from threads, as a fleet would send them.
    results = []

    def send():
        results.append(_http(f"{base}{HEARTBEAT}", method="POST", body=BEAT, token=token)[0])

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == [204, 204, 204]

    status, raw = _http(f"{base}{ME}", token=token)
    assert status == 200
    body = json.loads(raw)
    assert (body["serial"], body["kit"], body["online"]) == ("SN-4G-77", "CC-V5-0001", True)
    assert Heartbeat.objects.filter(device=device).count() == 3
    assert _http(f"{base}{HEARTBEAT}", method="POST", body=BEAT)[0] == 401


@pytest.mark.django_db(transaction=True)
def test_two_devices_racing_with_one_code_get_one_credential():
    device = Device.objects.create(kind=Device.Kind.CLASS_BOX, serial="SN-RACE")
    _, code = enrolment_code_issue(device=device)
    start = threading.Barrier(2)
    outcomes = []

    def redeem():
        from django.db import connection as thread_connection

        from cartable.fleet.services import EnrolmentRefused, enrolment_redeem

        start.wait(timeout=10)
        try:
            enrolment_redeem(serial=device.serial, code=code)
            outcomes.append("enrolled")
        except EnrolmentRefused as exc:
            outcomes.append(exc.reason)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["enrolled", "used"]
    assert DeviceCredential.objects.filter(device=device).count() == 1
