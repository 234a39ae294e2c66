"""Kit mode: the classroom kit's agent (cartable_kit) is the class's media side of its loan's
lessons, and the teacher's tablet is the control side (docs/protocol.md, « Kit mode »)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from cartable.fleet.models import Device, DeviceCredential, Loan


def agent_may(credential: DeviceCredential, loan: Loan) -> bool:
    """Whether this credential is the agent of the loan's kit: the credential its class box
    got at enrolment (kind ``kit_device``), not revoked, on a box of the loan's kit."""
    if credential.kind != DeviceCredential.Kind.KIT_DEVICE or credential.device_id is None:
        return False
    if credential.revoked_at is not None or loan.kit_id is None:
        return False
    return Device.objects.filter(
        pk=credential.device_id, kind=Device.Kind.CLASS_BOX, kit_id=loan.kit_id
    ).exists()


def agent_online(loan: Loan) -> Device | None:
    """The loan's kit's class box whose agent sent a heartbeat lately, if there is one."""
    if loan.kit_id is None:
        return None
    since = timezone.now() - timedelta(seconds=settings.FLEET["ONLINE_WITHIN_S"])
    return (
        Device.objects.filter(
            kit_id=loan.kit_id, kind=Device.Kind.CLASS_BOX, last_seen_at__gte=since
        )
        .exclude(credentials__isnull=True)
        .order_by("-last_seen_at")
        .first()
    )
