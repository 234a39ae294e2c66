"""The one access layer: "may this actor do this to this object?".

Every view, API endpoint and WebSocket consumer asks here; none checks rights by itself.
An actor is a person (possibly anonymous) and, separately, a device credential (a paired
pupil tablet, a kit's class station), because a device acts for a loan or a kit, never
for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cartable.fleet.models import DeviceCredential, Loan


class Action(StrEnum):
    LIVE_CLASS_STATION = "live.class_station"  # run the class side of a loan's live link
    LIVE_PUPIL = "live.pupil"  # be the pupil side of a loan's live link
    PAIRING_MANAGE = "pairing.manage"  # show pairing codes, list and revoke paired tablets


@dataclass(frozen=True)
class Actor:
    user: object | None = None  # a django User, possibly AnonymousUser
    device: DeviceCredential | None = None

    @property
    def is_person(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_authenticated", False))


def teaches(user, school_class_id: int) -> bool:
    from .models import RoleGrant

    return RoleGrant.objects.filter(
        user=user, role=RoleGrant.Role.TEACHER, school_class_id=school_class_id
    ).exists()


def can(actor: Actor, action: Action, loan: Loan) -> bool:
    """Whether ``actor`` may do ``action`` to ``loan``. Pure reads; no side effects."""
    device = actor.device
    if device is not None and device.is_revoked:
        device = None
    if action is Action.LIVE_PUPIL:
        return device is not None and device.kind == "pupil_tablet" and device.loan_id == loan.pk
    if action is Action.LIVE_CLASS_STATION:
        if device is not None and device.kind == "class_station" and device.kit_id == loan.kit_id:
            return True
        return actor.is_person and teaches(actor.user, loan.school_class_id)
    if action is Action.PAIRING_MANAGE:
        return actor.is_person and teaches(actor.user, loan.school_class_id)
    return False


def loans_for(actor: Actor, action: Action):
    """The loans on which ``actor`` may do ``action`` (a scoped queryset)."""
    from django.db.models import Q

    from cartable.fleet.models import Loan

    from .models import RoleGrant

    loans = Loan.objects.all()
    if action in (Action.LIVE_CLASS_STATION, Action.PAIRING_MANAGE):
        scope = Q(pk__in=[])
        if actor.is_person:
            classes = RoleGrant.objects.filter(user=actor.user, role=RoleGrant.Role.TEACHER).values(
                "school_class_id"
            )
            scope |= Q(school_class_id__in=classes)
        # A kit's class station runs the class side of the kit's loans, as can() allows;
        # without this the station (alone or beside a signed-in person) listed none of them.
        device = actor.device
        if (
            action is Action.LIVE_CLASS_STATION
            and device is not None
            and not device.is_revoked
            and device.kind == "class_station"
        ):
            scope |= Q(kit_id=device.kit_id)
        return loans.filter(scope)
    if action is Action.LIVE_PUPIL and actor.device is not None and not actor.device.is_revoked:
        return loans.filter(pk=actor.device.loan_id)
    return loans.none()
