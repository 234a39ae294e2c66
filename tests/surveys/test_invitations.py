"""``cartable send_surveys``: the invitations due are created and emailed once, at the end
of each loan and halfway through long ones, with a frozen clock."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.surveys.models import Respondent, Round, SurveyInvitation
from cartable.surveys.services import send_due

from .conftest import people_of, token_in

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 10, 1, 9, 0, tzinfo=PARIS)


def at(days: int, hour: int = 9):
    return time_machine.travel(START + timedelta(days=days, hours=hour - 9), tick=False)


def recipients(messages) -> list[tuple[str, str]]:
    return sorted((m.to[0], m.subject) for m in messages)


ADULT = "Votre avis sur le cartable connecté"
CHILD = "Le questionnaire de votre enfant sur le cartable connecté"


@pytest.fixture
def long_loan(make_loan):
    """A twelve-week loan from 1 October 2026: halfway on 12 November, ends 24 December."""
    with at(0):
        loan = make_loan(starts_in_days=0, ends_in_days=84)
    people_of(loan)
    return loan


def test_long_loan_gets_a_midway_round_then_an_end_round_each_sent_once(long_loan, mailoutbox):
    with at(41):
        assert send_due().invitations == 0
    assert mailoutbox == []

    with at(42):  # halfway
        out = io.StringIO()
        call_command("send_surveys", stdout=out)
    assert "5 invitation(s) envoyée(s) pour 1 prêt(s)" in out.getvalue()
    expected = [
        ("enseignante@example.org", ADULT),
        ("infirmier@example.org", ADULT),
        # The pupil's own link goes through the first family address.
        ("parent1@example.org", CHILD),
        ("parent1@example.org", ADULT),
        ("parent2@example.org", ADULT),
    ]
    assert recipients(mailoutbox) == expected
    invitations = SurveyInvitation.objects.filter(loan=long_loan)
    assert set(invitations.values_list("round", flat=True)) == {Round.MIDWAY}
    assert invitations.get(respondent_kind=Respondent.PUPIL).email == "parent1@example.org"

    # Daily runs: nothing is sent twice, the same day or the next ones.
    for day in (42, 43, 60, 83):
        with at(day, hour=18):
            assert send_due().invitations == 0
    assert len(mailoutbox) == 5

    with at(84):  # the planned last day
        sent = send_due()
    assert (sent.invitations, sent.loans) == (5, 1)
    assert recipients(mailoutbox[5:]) == expected
    with at(85):
        assert send_due().invitations == 0
    assert invitations.filter(round=Round.END).count() == 5
    assert invitations.count() == 10


def test_a_short_loan_gets_only_the_end_round(make_loan, mailoutbox, settings):
    settings.SURVEYS = {**settings.SURVEYS, "MIDWAY_AFTER_WEEKS": 8}
    with at(0):
        loan = make_loan(starts_in_days=0, ends_in_days=55)  # under 8 weeks
    people_of(loan)
    for day in range(0, 55, 3):
        with at(day):
            assert send_due().invitations == 0
    with at(55):
        assert send_due().invitations == 5
    assert set(SurveyInvitation.objects.values_list("round", flat=True)) == {Round.END}


def test_a_loan_ended_early_is_asked_about_at_once(make_loan, mailoutbox):
    with at(0):
        loan = make_loan(starts_in_days=0, ends_in_days=84)
    people_of(loan)
    with at(10):
        Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.ENDED, ended_at=timezone.now())
        assert send_due().invitations == 5
    # An early end is the end: no midway round afterwards.
    with at(42):
        assert send_due().invitations == 0
    assert set(SurveyInvitation.objects.values_list("round", flat=True)) == {Round.END}


def test_old_cancelled_and_unstarted_loans_are_not_asked_about(make_loan, mailoutbox):
    with at(-60):
        old = make_loan(starts_in_days=0, ends_in_days=20)  # ended 40 days before
    with at(0):
        cancelled = make_loan(starts_in_days=-30, ends_in_days=-1)
        requested = make_loan(starts_in_days=-30, ends_in_days=-1)
    Loan.objects.filter(pk=cancelled.pk).update(status=Loan.Status.CANCELLED)
    Loan.objects.filter(pk=requested.pk).update(status=Loan.Status.REQUESTED, kit=None)
    for n, loan in enumerate((old, cancelled, requested)):
        people_of(loan, prefix=f"p{n}.")
    with at(0):
        assert send_due().invitations == 0
    assert mailoutbox == []


def test_the_link_is_one_time_and_only_its_hash_is_stored(long_loan, mailoutbox, settings):
    with at(42):
        send_due()
    message = next(m for m in mailoutbox if m.to == ["enseignante@example.org"])
    token = token_in(message)
    assert message.body.count(token) == 1
    assert f"valable {settings.SURVEYS['LINK_VALID_DAYS']} jours" in message.body
    invitation = SurveyInvitation.objects.get(email="enseignante@example.org")
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in SurveyInvitation.objects.values_list() for v in v]
    assert not any(token in value for value in stored)
    assert invitation.expires_at - invitation.created_at == timedelta(
        days=settings.SURVEYS["LINK_VALID_DAYS"]
    )
    # The email never names the pupil.
    assert long_loan.pupil.display_name not in message.body


def test_people_without_an_address_or_inactive_are_skipped(make_loan, mailoutbox):
    with at(0):
        loan = make_loan(starts_in_days=0, ends_in_days=10)
    people = people_of(loan)
    people["hospital"].is_active = False
    people["hospital"].save()
    people["family2"].email = ""
    people["family2"].save()
    with at(10):
        send_due()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "enseignante@example.org",
        "parent1@example.org",
        "parent1@example.org",
    ]


def test_cartable_purge_deletes_invitations_a_link_validity_after_they_expired(
    long_loan, mailoutbox, settings
):
    with at(42):
        send_due()
    days = settings.SURVEYS["LINK_VALID_DAYS"]
    with at(42 + 2 * days - 1):
        call_command("purge", stdout=io.StringIO())
    assert SurveyInvitation.objects.count() == 5
    with at(42 + 2 * days + 1):
        call_command("purge", stdout=io.StringIO())
        assert SurveyInvitation.objects.count() == 0
        # Both rounds are long past their sending window: nothing is sent again.
        assert send_due().invitations == 0
