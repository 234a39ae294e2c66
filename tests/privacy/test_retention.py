"""A loan nobody ended still ends, for retention: its pupil's name, consent records and
paired tablets do not outlive it; its coordinator is told as soon as the planned end has
passed. And a loan that ends takes its tablets with it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cartable.consent.models import RETENTION_AFTER_LOAN_END
from cartable.fleet import services as fleet
from cartable.fleet.models import DeviceCredential, Loan, LoanEvent
from cartable.organisation.models import Department, Pupil, RoleGrant
from cartable.privacy.services import PSEUDONYM, consent_models

from ..conftest import force_login, make_person

GRACE = timedelta(days=30)  # PRIVACY_OVERDUE_GRACE_DAYS's default
NAME = timedelta(weeks=8)  # PRIVACY_PUPIL_NAME_WEEKS's default


def command(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def tablet_of(loan: Loan) -> DeviceCredential:
    """A tablet paired with ``loan`` (while it ran: pairing needs a running loan)."""
    credential, _ = fleet.credential_issue(kind=DeviceCredential.Kind.PUPIL_TABLET, loan=loan)
    return credential


def consent_rows(loan: Loan) -> int:
    return sum(model.objects.filter(loan=loan).count() for model in consent_models())


@pytest.fixture
def forgotten(make_loan):
    """A loan still marked running, whose planned end was 10 days ago, with its tablet."""
    loan = make_loan(starts_in_days=-100, ends_in_days=-10)
    assert loan.status == Loan.Status.ACTIVE and loan.is_overdue()
    return loan


def test_a_loan_nobody_ended_counts_as_ended_after_its_grace_period(forgotten):
    tablet = tablet_of(forgotten)
    pupil = Pupil.objects.get(pk=forgotten.pupil_id)
    ends = timezone.make_aware(
        timezone.datetime.combine(forgotten.ends_on, timezone.datetime.min.time())
    )
    assert consent_rows(forgotten) > 0

    # Within the grace period, the loan is treated as running: nothing of it goes.
    with time_machine.travel(ends + GRACE - timedelta(days=1), tick=False):
        command("purge")
        tablet.refresh_from_db()
        assert tablet.revoked_at is None
    # Past it, the loan is over: its tablet is no longer paired...
    with time_machine.travel(ends + GRACE + timedelta(days=1), tick=False):
        assert "Identifiants d'appareil : 1 révoqués" in command("purge")
        tablet.refresh_from_db()
        assert tablet.revoked_at is not None
        pupil.refresh_from_db()
        assert pupil.display_name != PSEUDONYM  # the name period runs from there
    # ...the pupil's name goes after the name period counted from the same day...
    with time_machine.travel(ends + GRACE + NAME + timedelta(days=1), tick=False):
        assert "Prénom d'usage de l'élève : 1 pseudonymisés" in command("purge")
        pupil.refresh_from_db()
        assert pupil.display_name == PSEUDONYM
        assert consent_rows(forgotten) > 0
    # ...the consent records after theirs, and the revoked tablet after its own.
    later = ends + GRACE + RETENTION_AFTER_LOAN_END + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        said = command("purge")
        assert consent_rows(forgotten) == 0
        assert not DeviceCredential.objects.filter(pk=tablet.pk).exists()
        assert "Autorisations avant les séances" in said
    # The loan itself stays, for the evaluation, and names no one.
    assert Loan.objects.filter(pk=forgotten.pk).exists()


def test_a_running_loan_within_its_dates_keeps_everything(make_loan):
    loan = make_loan()
    tablet = tablet_of(loan)
    with time_machine.travel(timezone.now() + timedelta(days=29), tick=False):
        command("purge")
    tablet.refresh_from_db()
    assert tablet.revoked_at is None
    assert Pupil.objects.get(pk=loan.pupil_id).display_name != PSEUDONYM
    assert consent_rows(loan) > 0


@pytest.mark.parametrize("how", ["end", "cancel"])
def test_ending_or_cancelling_a_loan_revokes_its_tablets(make_loan, how):
    loan = make_loan()
    tablets = [tablet_of(loan), tablet_of(loan)]
    other = make_loan()
    other_tablet = tablet_of(other)
    if how == "end":
        fleet.loan_end(loan=loan)
    else:
        Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.ASSIGNED)
        fleet.loan_cancel(loan=loan)
    for tablet in tablets:
        tablet.refresh_from_db()
        assert tablet.revoked_at is not None
    other_tablet.refresh_from_db()
    assert other_tablet.revoked_at is None


def test_a_tablet_left_paired_to_an_ended_loan_is_revoked_then_deleted(make_loan):
    """Loans ended before tablets were revoked with them: the purge catches up."""
    loan = make_loan()
    tablet = tablet_of(loan)
    Loan.objects.filter(pk=loan.pk).update(
        status=Loan.Status.RETURNED, ended_at=timezone.now() - timedelta(days=2)
    )
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert "Identifiants d'appareil : 1 révoqués" in command("purge")
    tablet.refresh_from_db()
    assert tablet.revoked_at is not None
    with time_machine.travel(now + timedelta(days=91), tick=False):
        assert "Identifiants d'appareil : 1 supprimés" in command("purge")
    assert not DeviceCredential.objects.filter(pk=tablet.pk).exists()


# Overdue loans are flagged to their coordinator ------------------------------------------


@pytest.fixture
def overdue_loan(forgotten, department):
    """The forgotten loan, in a school of the coordinator's département."""
    from cartable.organisation.models import School

    School.objects.filter(pk=forgotten.school_class.school_id).update(department=department)
    forgotten.refresh_from_db()
    return forgotten


def test_the_coordinator_is_emailed_once_per_planned_end(
    overdue_loan, coordinator, mailoutbox, make_loan
):
    elsewhere = make_person(
        "coordo.75",
        {"role": RoleGrant.Role.DEPARTMENT, "department": Department.objects.get(code="75")},
    )
    make_loan()  # running, within its dates: nothing to say
    assert "1 prévenus" in command("notify_overdue")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [coordinator.email]
    assert elsewhere.email not in mail.to
    assert f"/prets/{overdue_loan.pk}/" in mail.body
    assert overdue_loan.pupil.display_name not in mail.body + mail.subject  # no name by email
    assert LoanEvent.objects.filter(loan=overdue_loan, kind=LoanEvent.Kind.OVERDUE).count() == 1

    assert "aucune à signaler" in command("notify_overdue")
    assert len(mailoutbox) == 1

    # Extended, then overdue again: a new notice for the new planned end.
    fleet.loan_extend(loan=overdue_loan, ends_on=timezone.localdate() + timedelta(days=5))
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        assert "1 prévenus" in command("notify_overdue")
    assert len(mailoutbox) == 2


def test_an_overdue_loan_without_coordinator_is_counted_not_recorded(forgotten, mailoutbox):
    assert "1 sans coordonnateur" in command("notify_overdue")
    assert mailoutbox == []
    assert not LoanEvent.objects.filter(loan=forgotten, kind=LoanEvent.Kind.OVERDUE).exists()


def test_the_coordinators_home_and_the_loan_page_flag_it(client, overdue_loan, coordinator):
    force_login(client, coordinator)
    home = client.get("/").content.decode()
    assert "Fin prévue dépassée : à prolonger ou terminer" in home
    assert f"Prolonger ou terminer le prêt de {overdue_loan.pupil.display_name}" in home
    page = client.get(f"/prets/{overdue_loan.pk}/").content.decode()
    assert 'id="overdue-notice"' in page
    counts_as_ended = overdue_loan.ends_on + GRACE
    assert f"comptera comme terminée le {counts_as_ended.day} " in page


def test_someone_without_the_right_is_not_told(client, overdue_loan, other_teacher, coordinator):
    other_department = make_person(
        "coordo.75",
        {"role": RoleGrant.Role.DEPARTMENT, "department": Department.objects.get(code="75")},
    )
    for person in (other_department, other_teacher):
        client.logout()
        force_login(client, person)
        home = client.get("/").content.decode()
        assert "Fin prévue dépassée" not in home
        assert client.get(f"/prets/{overdue_loan.pk}/").status_code == 404


def test_a_loan_within_its_dates_is_not_flagged(client, loan, department, coordinator):
    force_login(client, coordinator)
    assert not loan.is_overdue()
    assert "Fin prévue dépassée" not in client.get("/").content.decode()
    assert 'id="overdue-notice"' not in client.get(f"/prets/{loan.pk}/").content.decode()
