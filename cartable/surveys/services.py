"""Writes of the surveys: sending the invitations that are due, recording an answer, and
the coordinators' review of free texts.

``send_due`` is idempotent (``cartable send_surveys`` runs it daily): an invitation exists
once per loan, round and address (constraints in models.py), is created and emailed in one
transaction (an invitation that could not be sent does not exist, and is tried again the
next day), and is never sent twice.

``answer`` marks the invitation used and stores the anonymous response in one transaction,
the invitation locked (``select_for_update``): two submissions of the same link store one
response.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from cartable.organisation.models import Role, RoleGrant

from .models import (
    Respondent,
    Round,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    level_group,
)
from .questions import FREE_TEXT_MAX, wordings_for


class SurveyError(Exception):
    """A refusal with a French message for the respondent."""


UNKNOWN = (
    "Ce lien de questionnaire n'est pas valide. Vérifiez qu'il a été copié en entier "
    "depuis le message reçu."
)
EXPIRED = (
    "Ce lien de questionnaire a expiré : il était valable {days} jours. Merci de votre "
    "intérêt ; aucune réponse n'a été enregistrée."
)
USED = (
    "Ce questionnaire a déjà reçu une réponse par ce lien : chaque lien ne sert qu'une "
    "fois. Votre première réponse est bien enregistrée ; rien n'a été enregistré en double."
)

# Loans that held a kit with a pupil: the ones whose people are asked.
STARTED = ("active", "ended", "returned")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(token: str) -> str:
    from django.urls import reverse

    base = settings.SURVEYS["SITE_URL"].rstrip("/")
    return base + reverse("surveys:answer", args=[token])


# Sending ----------------------------------------------------------------------------------


@dataclass
class Sent:
    invitations: int = 0
    loans: int = 0


def _end_day(loan) -> date:
    if loan.ended_at is not None:
        return min(timezone.localdate(loan.ended_at), loan.ends_on)
    return loan.ends_on


def due_rounds(loan, today: date) -> list[str]:
    """The rounds due for ``loan`` on ``today``: the end once the loan is over (ended, or
    on its planned last day) and not longer ago than ``SEND_WITHIN_DAYS``; midway once
    half of a loan planned for at least ``MIDWAY_AFTER_WEEKS`` weeks has passed, while it
    still runs. Each within ``SEND_WITHIN_DAYS`` days (a missed daily run is caught up;
    an old loan is not asked about when the command is first deployed)."""
    conf = settings.SURVEYS
    rounds = []
    length = (loan.ends_on - loan.starts_on).days
    over = loan.ended_at is not None or loan.status != "active" or loan.ends_on <= today
    window = timedelta(days=conf["SEND_WITHIN_DAYS"])
    if length >= conf["MIDWAY_AFTER_WEEKS"] * 7 and not over:
        midpoint = loan.starts_on + timedelta(days=length // 2)
        if midpoint <= today <= midpoint + window:
            rounds.append(Round.MIDWAY)
    if over and today - _end_day(loan) <= window:
        rounds.append(Round.END)
    return rounds


def recipients(loan) -> list[tuple[str, str]]:
    """(respondent kind, email address) of the people asked about ``loan``: the class's
    teachers, the family, the hospital staff of the loan, and the pupil, whose link goes
    to the family's first address (the one invited first)."""
    grants = (
        RoleGrant.objects.filter(
            Q(role=Role.TEACHER, school_class_id=loan.school_class_id)
            | Q(role__in=(Role.FAMILY, Role.HOSPITAL_STAFF), loan_id=loan.pk)
        )
        .exclude(user__email="")
        .filter(user__is_active=True)
        .order_by("pk")
        .values_list("role", "user__email")
    )
    kinds = {
        Role.TEACHER: Respondent.TEACHER,
        Role.FAMILY: Respondent.FAMILY,
        Role.HOSPITAL_STAFF: Respondent.HOSPITAL_STAFF,
    }
    out: list[tuple[str, str]] = []
    for role, email in grants:
        pair = (kinds[role], email.strip().lower())
        if pair not in out:
            out.append(pair)
    families = [email for kind, email in out if kind == Respondent.FAMILY]
    if families:
        out.append((Respondent.PUPIL, families[0]))
    return out


def _invite(loan, round_: str, kind: str, email: str, now: datetime) -> bool:
    """Create and send one invitation; False when it already exists."""
    days = settings.SURVEYS["LINK_VALID_DAYS"]
    existing = SurveyInvitation.objects.filter(loan=loan, round=round_, respondent_kind=kind)
    if kind != Respondent.PUPIL:
        existing = existing.filter(email=email)
    if existing.exists():
        return False
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                loan=loan,
                round=round_,
                respondent_kind=kind,
                email=email,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
            context = {
                "invitation": invitation,
                "url": link_for(token),
                "days": days,
                "expires_on": timezone.localdate(invitation.expires_at),
                "round": Round(round_).label.lower(),
            }
            template = "pupil" if kind == Respondent.PUPIL else "adult"
            send_mail(
                subject=(
                    "Le questionnaire de votre enfant sur le cartable connecté"
                    if kind == Respondent.PUPIL
                    else "Votre avis sur le cartable connecté"
                ),
                message=render_to_string(f"surveys/email/{template}.txt", context),
                from_email=None,
                recipient_list=[email],
            )
    except IntegrityError:  # created meanwhile by another run
        return False
    return True


def send_due(now: datetime | None = None) -> Sent:
    """Create and email every invitation due on the day of ``now``."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    conf = settings.SURVEYS
    from cartable.fleet.models import Loan

    horizon = today - timedelta(days=conf["SEND_WITHIN_DAYS"])
    loans = (
        Loan.objects.filter(status__in=STARTED, starts_on__lte=today, ends_on__gte=horizon)
        .select_related("school_class")
        .order_by("pk")
    )
    sent = Sent()
    for loan in loans.iterator():
        rounds = due_rounds(loan, today)
        if not rounds:
            continue
        people = recipients(loan)
        count = sum(_invite(loan, r, kind, email, now) for r in rounds for kind, email in people)
        if count:
            sent.invitations += count
            sent.loans += 1
    return sent


# Answering --------------------------------------------------------------------------------


def find(token: str) -> SurveyInvitation:
    """The invitation of a link, still usable; SurveyError (French message) otherwise."""
    if not token or len(token) > 100:
        raise SurveyError(UNKNOWN)
    invitation = SurveyInvitation.objects.filter(token_hash=token_hash(token)).first()
    return _usable(invitation)


def _usable(invitation: SurveyInvitation | None) -> SurveyInvitation:
    if invitation is None:
        raise SurveyError(UNKNOWN)
    if invitation.answered_at is not None:
        raise SurveyError(USED)
    if invitation.expires_at <= timezone.now():
        raise SurveyError(EXPIRED.format(days=settings.SURVEYS["LINK_VALID_DAYS"]))
    return invitation


def answer(token: str, answers: dict[str, tuple[int, str]]) -> SurveyResponse:
    """Record the answers (question → (scale value, free text)) given through the link
    ``token``, anonymously. SurveyError when the link cannot be used, or the answers are
    not those of the questionnaire; nothing is written then."""
    kind_of = SurveyInvitation.objects.filter(token_hash=token_hash(token or "")).values_list(
        "respondent_kind", flat=True
    )
    kind = kind_of.first()
    if kind is None:
        raise SurveyError(UNKNOWN)
    cleaned = _clean(kind, answers)
    with transaction.atomic():
        invitation = _usable(
            SurveyInvitation.objects.select_for_update(of=("self",))
            .select_related("loan__school_class__school__department")
            .filter(token_hash=token_hash(token))
            .first()
        )
        now = timezone.now()
        loan = invitation.loan
        klass = loan.school_class
        department = klass.school.department
        response = SurveyResponse.objects.create(
            respondent_kind=invitation.respondent_kind,
            round=invitation.round,
            school_year=klass.school_year,
            academy_id=department.academy_id if department else None,
            department=department,
            level_group=level_group(klass.level),
            place_kind=loan.place_kind,
            submitted_on=timezone.localdate(now),
        )
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(
                response=response,
                question=question,
                value=value,
                text=text,
                review=SurveyAnswer.Review.PENDING if text else SurveyAnswer.Review.NONE,
            )
            for question, (value, text) in cleaned.items()
        )
        invitation.answered_at = now
        invitation.save(update_fields=["answered_at"])
    return response


def _clean(kind: str, answers: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    cleaned = {}
    for wording in wordings_for(kind):
        value, text = answers.get(wording.question, (None, ""))
        if value not in dict(wording.scale):
            raise SurveyError("Répondez à chaque question avant d'envoyer.")
        text = (text or "").strip() if wording.free_text else ""
        if len(text) > FREE_TEXT_MAX:
            raise SurveyError(f"Un texte libre tient en {FREE_TEXT_MAX} caractères au plus.")
        cleaned[wording.question] = (value, text)
    return cleaned


# Review of free texts ---------------------------------------------------------------------


def review(answer_id, *, approve: bool, departments) -> SurveyAnswer:
    """Approve or reject a pending free text of a response within ``departments`` (a
    queryset of the coordinator's départements). A rejected text is erased at once.
    SurveyError when there is no such pending text there."""
    with transaction.atomic():
        item = (
            SurveyAnswer.objects.select_for_update(of=("self",))
            .filter(
                pk=answer_id,
                review=SurveyAnswer.Review.PENDING,
                response__department__in=departments,
            )
            .first()
        )
        if item is None:
            raise SurveyError("Ce texte a déjà été relu, ou n'est pas de votre département.")
        if approve:
            item.review = SurveyAnswer.Review.APPROVED
            item.save(update_fields=["review"])
        else:
            item.review = SurveyAnswer.Review.REJECTED
            item.text = ""
            item.save(update_fields=["review", "text"])
    return item


def purge_invitations(now: datetime) -> dict[str, int]:
    """Invitations (addresses, loans) are deleted ``LINK_VALID_DAYS`` days after expiry."""
    cutoff = now - timedelta(days=settings.SURVEYS["LINK_VALID_DAYS"])
    deleted, _ = SurveyInvitation.objects.filter(expires_at__lt=cutoff).delete()
    return {"supprimées": deleted}
