"""`cartable purge` with a frozen clock: what is past its period goes, the rest stays, and a
second run changes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.live.models import LiveSession, PairingCode
from cartable.organisation.models import Pupil, RoleGrant
from cartable.privacy.models import AuditEntry
from cartable.privacy.services import PSEUDONYM

from ..conftest import make_person


def purge() -> str:
    out = StringIO()
    call_command("purge", stdout=out)
    return out.getvalue()


@pytest.fixture
def world(make_loan, teacher):
    now = timezone.now()
    old = make_loan(ended=True, starts_in_days=-120, ends_in_days=-60)
    Loan.objects.filter(pk=old.pk).update(
        ended_at=now - timedelta(weeks=9), status=Loan.Status.RETURNED
    )
    recent = make_loan(ended=True, starts_in_days=-60, ends_in_days=-3)
    running = make_loan()
    family = make_person("famille.old", {"role": RoleGrant.Role.FAMILY, "loan": old})
    family.last_login = now
    family.save(update_fields=["last_login"])
    session = LiveSession.objects.create(
        loan=old, started_at=now - timedelta(weeks=10), ended_at=now, started_by=teacher
    )
    return {"old": old, "recent": recent, "running": running, "session": session}


def test_the_purge_applies_each_period_and_a_second_run_changes_nothing(world):
    now = timezone.now()
    lonely = Pupil.objects.create(
        display_name="Sans prêt", school_class=world["running"].school_class
    )
    Pupil.objects.filter(pk=lonely.pk).update(created_at=now - timedelta(weeks=9))
    fresh = Pupil.objects.create(display_name="Nouveau", school_class=lonely.school_class)
    with time_machine.travel(now - timedelta(days=400)):
        from cartable.privacy import audit

        audit.record(None, "view", world["old"], detail="ancienne")
    audit.record(None, "view", world["old"], detail="récente")
    PairingCode.objects.create(
        loan=world["running"],
        locator="1234",
        secret_hash="x",
        created_at=now - timedelta(days=40),
        expires_at=now - timedelta(days=40),
    )
    Session.objects.create(
        session_key="a" * 32, session_data="", expire_date=now - timedelta(days=1)
    )
    Session.objects.create(
        session_key="b" * 32, session_data="", expire_date=now + timedelta(days=1)
    )

    with time_machine.travel(now, tick=False):
        first = purge()
        assert "changement(s)" in first
        assert "rien n'a changé" not in first

        old = Pupil.objects.get(pk=world["old"].pupil_id)
        assert old.display_name == PSEUDONYM
        assert Loan.objects.filter(pk=world["old"].pk).exists()  # kept for the evaluation
        assert not RoleGrant.objects.filter(loan=world["old"]).exists()
        world["session"].refresh_from_db()
        assert world["session"].started_by is None
        # Not past their period: the names stay.
        assert Pupil.objects.get(pk=world["recent"].pupil_id).display_name != PSEUDONYM
        assert Pupil.objects.get(pk=world["running"].pupil_id).display_name != PSEUDONYM
        assert not Pupil.objects.filter(pk=lonely.pk).exists()
        assert Pupil.objects.filter(pk=fresh.pk).exists()
        details = set(AuditEntry.objects.values_list("detail", flat=True))
        assert "ancienne" not in details and "récente" in details
        assert not PairingCode.objects.exists()
        assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]

        entries = AuditEntry.objects.count()
        second = purge()
        assert "Purge terminée : rien n'était échu, rien n'a changé." in second
        assert AuditEntry.objects.count() == entries

    # Nine weeks on, the loan that had just ended is past its period too.
    with time_machine.travel(now + timedelta(weeks=9), tick=False):
        assert "Prénom d'usage de l'élève : 1 pseudonymisés" in purge()
        assert Pupil.objects.get(pk=world["recent"].pupil_id).display_name == PSEUDONYM
        assert Pupil.objects.get(pk=world["running"].pupil_id).display_name != PSEUDONYM


def test_inactive_accounts_are_deleted_after_their_period(db):
    now = timezone.now()
    idle = make_person("dormant")
    active = make_person("actif")
    type(idle).objects.filter(pk=idle.pk).update(last_login=now - timedelta(days=400))
    type(idle).objects.filter(pk=active.pk).update(last_login=now - timedelta(days=10))
    assert "Comptes des personnes : 1 supprimés" in purge()
    assert not type(idle).objects.filter(pk=idle.pk).exists()
    assert type(idle).objects.filter(pk=active.pk).exists()
