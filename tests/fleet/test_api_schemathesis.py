"""schemathesis against the device API's own OpenAPI schema, over a real socket.

Every operation gets generated requests, valid and invalid (negative mode: wrong types,
missing or extra fields, out-of-range numbers, odd strings with NUL bytes and control
characters), with a valid device token for the authenticated ones, and no answer may be a
server error; every answer must also match what the schema declares (status, content type,
body).
"""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cartable.api import api
from cartable.fleet.models import Device, DeviceCredential, Kit
from cartable.fleet.services import credential_issue, enrolment_code_issue

# Loaded from the application itself at collection; the test checks that the server serves
# exactly this schema.
OPENAPI = api.get_openapi_schema()
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(OPENAPI, default=str)))


def test_the_server_serves_the_schema_under_test(asgi_server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{asgi_server.url}/api/openapi.json", timeout=10) as response:
        served = json.load(response)
    assert served == json.loads(json.dumps(OPENAPI, default=str))
    assert set(served["paths"]) >= {"/api/devices/enrol", "/api/devices/heartbeat"}


@pytest.fixture
def device_token(asgi_server):
    kit = Kit.objects.create(code="CC-G3-9000")
    device = Device.objects.create(kit=kit, kind=Device.Kind.CLASS_BOX, serial="SN-ABC-0001")
    # A live code too, so that generated enrolments may meet a real one.
    enrolment_code_issue(device=device)
    return credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=device)[1]


@pytest.fixture
def limits_off(settings, monkeypatch):
    """No rate limit here: every valid heartbeat and enrolment must reach the database."""
    settings.FLEET = {**settings.FLEET, "ENROLMENT_TRIES_PER_10_MIN": 10**9}
    monkeypatch.setattr("cartable.fleet.api.HEARTBEATS_PER_MINUTE", 10**9)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and deterministic, so the suite runs it every time: few examples per operation,
# the same ones at every run (derandomised, no example database between runs).
BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@BOUNDED
def test_no_server_error_and_answers_as_documented(case, asgi_server, device_token, limits_off):
    case.call_and_validate(
        base_url=asgi_server.url,
        headers={"Authorization": f"Bearer {device_token}"},
        checks=CHECKS,
    )


@pytest.fixture
def ministry_session(asgi_server):
    """A signed-in ministry session (second factor verified), as a cookie for the server."""
    from django.test import Client

    from cartable.organisation.models import RoleGrant

    from ..conftest import force_login, make_person

    person = make_person("ministere.st", {"role": RoleGrant.Role.NATIONAL})
    client = force_login(Client(), person)
    return f"sessionid={client.cookies['sessionid'].value}"


@schema.include(path="/api/evaluation/indicators").parametrize()
@BOUNDED
def test_the_indicators_answer_as_documented_to_a_signed_in_person(
    case, asgi_server, ministry_session
):
    case.call_and_validate(
        base_url=asgi_server.url, headers={"Cookie": ministry_session}, checks=CHECKS
    )


def test_an_integer_valued_float_is_an_integer(asgi_server, device_token, limits_off):
    """JSON Schema's ``integer`` includes 82.0: the heartbeat takes it (and still refuses
    82.5, true and "82")."""
    import urllib.error

    def beat(**values):
        body = {"software_version": "5.2.1", "network": "wifi", "signal": 82, "battery": None}
        body["uptime_s"] = 10
        body.update(values)
        request = urllib.request.Request(
            f"{asgi_server.url}/api/devices/heartbeat",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {device_token}", "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    assert beat(signal=82.0, battery=40.0, uptime_s=3600.0) in (200, 201, 204)
    for bad in ({"signal": 82.5}, {"battery": True}, {"uptime_s": "82"}, {"signal": 101.0}):
        assert beat(**bad) == 422
