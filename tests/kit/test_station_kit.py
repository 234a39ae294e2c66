"""The class station page in kit mode: when the loan's kit has an agent online, the page
steers it and captures no camera; without one, the browser station as before."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from cartable.fleet.models import Device, DeviceCredential
from cartable.fleet.services import credential_issue

from ..conftest import force_login


def box(loan, seen_ago_s: int) -> Device:
    device = Device.objects.create(
        kit=loan.kit,
        kind=Device.Kind.CLASS_BOX,
        serial=f"SN-B-{seen_ago_s}",
        last_seen_at=timezone.now() - timedelta(seconds=seen_ago_s),
    )
    credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=device)
    return device


def test_with_an_agent_online_the_station_is_in_kit_mode(client, loan, teacher):
    box(loan, 10)
    force_login(client, teacher)
    page = client.get(reverse("live:station", args=[loan.pk])).content.decode()
    assert 'data-mode="kit"' in page and "station-kit.js" in page
    assert 'id="board-camera"' not in page


def test_without_an_agent_online_the_browser_station_as_before(client, loan, teacher):
    box(loan, 3600)  # seen an hour ago: offline
    force_login(client, teacher)
    page = client.get(reverse("live:station", args=[loan.pk])).content.decode()
    assert 'data-mode="kit"' not in page and 'id="board-camera"' in page


def test_kit_mode_does_not_open_the_station_to_others(client, loan, outsider):
    box(loan, 10)
    force_login(client, outsider)
    assert client.get(reverse("live:station", args=[loan.pk])).status_code == 404
