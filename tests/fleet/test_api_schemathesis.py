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


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_error_and_answers_as_documented(case, asgi_server, device_token, limits_off):
    case.call_and_validate(
        base_url=asgi_server.url,
        headers={"Authorization": f"Bearer {device_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
