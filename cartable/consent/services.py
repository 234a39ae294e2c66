"""Writes and reads of the authorisations before the first lesson. Keyword-only, atomic.

Every write adds a row (history is kept, see ``models``); each checks its date against the
loan, and refuses with a French message (``ConsentError``) before writing anything.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import formats, timezone

from cartable.fleet.models import Loan
from cartable.organisation.access import teaches

from .models import (
    REQUIRED,
    FamiliesInformed,
    FrameExclusion,
    GuardianAuthorisation,
    PupilAgreement,
    TeacherAgreement,
)
from .wordings import WORDINGS, wording_for

# What each required record is called where something is missing (« il manque : … »).
LABELS = {
    GuardianAuthorisation: "l'autorisation des représentants légaux",
    PupilAgreement: "l'accord de l'élève",
    TeacherAgreement: "l'accord de l'enseignant·e",
    FamiliesInformed: "l'information des familles de la classe",
}
# A signature older than this before the loan's start does not cover the loan.
OLDEST_BEFORE_START = timedelta(days=365)
MAX_OUT_OF_FRAME = 60


class ConsentError(ValueError):
    """A refused record: ``field`` is the form field at fault (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def missing_records(loan: Loan) -> list[str]:
    """The French names of the records the loan still lacks before a live session; empty
    when it may start."""
    return [LABELS[model] for model in REQUIRED if not model.objects.filter(loan=loan).exists()]


def current_records(loan: Loan) -> dict[str, object]:
    """The loan's current record of each kind (None when there is none)."""
    return {
        "guardians": GuardianAuthorisation.latest(loan),
        "pupil": PupilAgreement.latest(loan),
        "teacher": TeacherAgreement.latest(loan),
        "families": FamiliesInformed.latest(loan),
        "frame": FrameExclusion.latest(loan),
    }


def frame_reminder(loan: Loan) -> FrameExclusion | None:
    """The current frame record when some classmates must stay out of the picture."""
    record = FrameExclusion.latest(loan)
    return record if record is not None and record.required else None


def _day(value: date) -> str:
    return formats.date_format(value, "j F Y")


def _check_open(loan: Loan) -> None:
    if loan.status in (Loan.Status.CANCELLED, Loan.Status.RETURNED):
        raise ConsentError("Cette mise à disposition est close : rien ne peut plus y être noté.")


def _check_date(loan: Loan, value: date, field: str) -> None:
    today = timezone.localdate()
    if value > today:
        raise ConsentError("La date ne peut pas être dans le futur.", field)
    if value > loan.ends_on:
        raise ConsentError(
            f"La date est après la fin prévue de la mise à disposition ({_day(loan.ends_on)}).",
            field,
        )
    if value < loan.starts_on - OLDEST_BEFORE_START:
        raise ConsentError(
            "La date est plus d'un an avant le début de la mise à disposition "
            f"({_day(loan.starts_on)}) : il faut un accord plus récent.",
            field,
        )


@transaction.atomic
def guardians_record(
    *, loan: Loan, by, signed_on: date, signed_as: str, method: str
) -> GuardianAuthorisation:
    _check_open(loan)
    _check_date(loan, signed_on, "signed_on")
    if signed_as not in GuardianAuthorisation.SignedAs.values:
        raise ConsentError("Choisissez qui a signé.", "signed_as")
    if method not in GuardianAuthorisation.Method.values:
        raise ConsentError("Choisissez comment l'autorisation a été signée.", "method")
    return GuardianAuthorisation.objects.create(
        loan=loan, recorded_by=by, signed_on=signed_on, signed_as=signed_as, method=method
    )


@transaction.atomic
def pupil_record(
    *, loan: Loan, by, agreed_on: date, method: str, wording: str | None = None
) -> PupilAgreement:
    """The pupil's agreement, with the wording shown: today's one for the class's age
    group unless told."""
    _check_open(loan)
    _check_date(loan, agreed_on, "agreed_on")
    if method not in PupilAgreement.Method.values:
        raise ConsentError("Choisissez comment l'accord a été recueilli.", "method")
    wording = wording or wording_for(loan.school_class).key
    if wording not in WORDINGS:
        raise ConsentError("Ce texte n'existe pas.")
    return PupilAgreement.objects.create(
        loan=loan, recorded_by=by, agreed_on=agreed_on, method=method, wording=wording
    )


@transaction.atomic
def teacher_record(*, loan: Loan, by, agreed_on: date, teacher=None) -> TeacherAgreement:
    """The teacher's agreement: ``teacher`` is who agreed (themself when they record it),
    ``by`` who recorded it."""
    _check_open(loan)
    _check_date(loan, agreed_on, "agreed_on")
    if teacher is not None and not teaches(teacher, loan.school_class_id):
        raise ConsentError("Cette personne n'enseigne pas dans la classe.", "teacher")
    return TeacherAgreement.objects.create(
        loan=loan, recorded_by=by, agreed_on=agreed_on, teacher=teacher
    )


@transaction.atomic
def families_record(*, loan: Loan, by, informed_on: date, channel: str) -> FamiliesInformed:
    _check_open(loan)
    _check_date(loan, informed_on, "informed_on")
    if channel not in FamiliesInformed.Channel.values:
        raise ConsentError("Choisissez comment les familles ont été informées.", "channel")
    return FamiliesInformed.objects.create(
        loan=loan, recorded_by=by, informed_on=informed_on, channel=channel
    )


@transaction.atomic
def frame_record(*, loan: Loan, by, required: bool, count: int | None = None) -> FrameExclusion:
    _check_open(loan)
    if not required and count is not None:
        raise ConsentError(
            "Ne donnez un nombre que si des élèves doivent rester hors du champ.", "count"
        )
    if count is not None and not 1 <= count <= MAX_OUT_OF_FRAME:
        raise ConsentError(f"Le nombre d'élèves va de 1 à {MAX_OUT_OF_FRAME}.", "count")
    return FrameExclusion.objects.create(loan=loan, recorded_by=by, required=required, count=count)


@transaction.atomic
def authorise_all(*, loan: Loan, by=None, on: date | None = None) -> None:
    """Every required record at once, dated ``on`` (today, or the loan's end if earlier):
    for the demo and the tests' loans, which stand for loans whose papers are in order."""
    on = on or min(timezone.localdate(), loan.ends_on)
    guardians_record(
        loan=loan,
        by=by,
        signed_on=on,
        signed_as=GuardianAuthorisation.SignedAs.GUARDIAN,
        method=GuardianAuthorisation.Method.PAPER,
    )
    pupil_record(loan=loan, by=by, agreed_on=on, method=PupilAgreement.Method.ORAL)
    teacher_record(loan=loan, by=by, agreed_on=on)
    families_record(loan=loan, by=by, informed_on=on, channel=FamiliesInformed.Channel.LETTER)
