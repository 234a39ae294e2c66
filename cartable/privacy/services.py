"""People's rights on a pupil's data, and the pupil's retention: find, export, erase,
pseudonymise. Every write is atomic and audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.organisation.models import Invitation, Pupil, RoleGrant

from . import audit

# What a pupil's display name becomes: the record stays (its loans, attendance and quality
# are kept for the evaluation) but no longer names anyone.
PSEUDONYM = "Élève pseudonymisé"


class RightsRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def name_weeks() -> int:
    return settings.PRIVACY["PUPIL_NAME_WEEKS"]


def overdue_grace() -> timedelta:
    """How long a loan still marked under way past its planned end keeps its records as if
    it were running (``PRIVACY['OVERDUE_GRACE_DAYS']``)."""
    return timedelta(days=settings.PRIVACY["OVERDUE_GRACE_DAYS"])


def loan_ended_on(loan: Loan) -> date:
    """The day a loan ended, for retention: the day it was ended; for a loan nobody ended,
    its planned end (plus the grace period while it is still marked under way)."""
    if loan.ended_at is not None:
        return timezone.localdate(loan.ended_at)
    if loan.status in Loan.UNDER_WAY:
        return loan.ends_on + overdue_grace()
    return loan.ends_on


def loans_over(before: date):
    """Loans whose end (``loan_ended_on``) is before ``before``.

    A loan still marked under way counts too once its planned end plus the grace period is
    before ``before``: a forgotten « Terminer » must not keep a pupil's name forever."""
    ended_early = Q(ended_at__isnull=False, ended_at__lt=_start_of(before))
    planned = Q(ended_at__isnull=True, ends_on__lt=before)
    finished = ~Q(status__in=Loan.UNDER_WAY) & (ended_early | planned)
    forgotten = Q(status__in=Loan.UNDER_WAY, ended_at__isnull=True) & Q(
        ends_on__lt=before - overdue_grace()
    )
    return Loan.objects.filter(finished | forgotten)


def name_kept_until(loan: Loan) -> date:
    """The day after which ``cartable purge`` pseudonymises the pupil, counting from this
    loan alone (a later loan of the same pupil keeps the name longer)."""
    return loan_ended_on(loan) + timedelta(weeks=name_weeks())


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def consent_models() -> list:
    """The consent app's record models (each has a ``loan``), when the app is installed."""
    if not apps.is_installed("cartable.consent"):
        return []
    config = apps.get_app_config("consent")
    return [
        model
        for model in config.get_models()
        if any(field.name == "loan" for field in model._meta.fields)
    ]


# Finding ----------------------------------------------------------------------------------


def pupils_find(*, name: str, school: str = "", school_class: str = ""):
    name = " ".join(name.split())
    found = Pupil.objects.filter(display_name__icontains=name).select_related(
        "school_class__school"
    )
    if school.strip():
        wanted = school.strip()
        found = found.filter(
            Q(school_class__school__name__icontains=wanted)
            | Q(school_class__school__uai__iexact=wanted)
            | Q(school_class__school__commune__icontains=wanted)
        )
    if school_class.strip():
        found = found.filter(school_class__name__icontains=school_class.strip())
    return found.order_by("display_name", "pk")


# Export -----------------------------------------------------------------------------------


def _iso(value):
    if value is None:
        return None
    return value.isoformat()


def _user_label(user) -> str | None:
    return None if user is None else f"compte {user.pk}"


def pupil_export(pupil: Pupil) -> dict:
    """Everything held about the pupil (and so for their guardians), as plain data."""
    from cartable.live.models import LiveSession

    klass = pupil.school_class
    school = klass.school
    consents = consent_models()
    loans = []
    for loan in Loan.objects.filter(pupil=pupil).select_related("kit", "pupil_department"):
        sessions = []
        for session in LiveSession.objects.filter(loan=loan).order_by("started_at"):
            sessions.append(
                {
                    "début": _iso(session.started_at),
                    "fin": _iso(session.ended_at),
                    "motif de fin": session.get_end_reason_display() or None,
                    "présences": [
                        {
                            "côté": row.get_side_display(),
                            "arrivée": _iso(row.joined_at),
                            "départ": _iso(row.left_at),
                        }
                        for row in session.attendance.order_by("joined_at")
                    ],
                    "qualité": [
                        {
                            "côté": row.get_side_display(),
                            "mesures": row.samples,
                            "bonne": row.good,
                            "dégradée": row.degraded,
                            "mauvaise": row.poor,
                            "par relais": row.relayed,
                        }
                        for row in session.quality.order_by("side")
                    ],
                }
            )
        records = []
        for model in consents:
            for row in model.objects.filter(loan=loan).order_by("pk"):
                values = {}
                for field in model._meta.fields:
                    if field.name in ("id", "loan"):
                        continue
                    if field.is_relation:
                        values[str(field.verbose_name)] = _user_label(getattr(row, field.name))
                        continue
                    value = getattr(row, field.name)
                    display = getattr(row, f"get_{field.name}_display", None)
                    if display is not None:
                        value = display()
                    elif isinstance(value, date | datetime):
                        value = value.isoformat()
                    values[str(field.verbose_name)] = value
                records.append({"type": str(model._meta.verbose_name), "valeurs": values})
        loans.append(
            {
                "identifiant": loan.pk,
                "cartable": loan.kit.code if loan.kit else None,
                "étape": loan.get_status_display(),
                "début": _iso(loan.starts_on),
                "fin prévue": _iso(loan.ends_on),
                "lieu": loan.get_place_kind_display(),
                "département de l'élève": str(loan.pupil_department)
                if loan.pupil_department
                else None,
                "demandé le": _iso(loan.created_at),
                "terminé le": _iso(loan.ended_at),
                "rendu le": _iso(loan.returned_at),
                "étapes": [
                    {"étape": event.get_kind_display(), "le": _iso(event.at)}
                    for event in loan.events.order_by("at", "pk")
                ],
                "tablettes appairées": [
                    {
                        "appareil": credential.label,
                        "appairée le": _iso(credential.created_at),
                        "vue le": _iso(credential.last_seen_at),
                        "révoquée le": _iso(credential.revoked_at),
                    }
                    for credential in loan.credentials.order_by("created_at")
                ],
                "rôles sur ce prêt": [
                    {"rôle": grant.get_role_display(), "depuis": _iso(grant.granted_at)}
                    for grant in RoleGrant.objects.filter(loan=loan).order_by("granted_at")
                ],
                "séances en direct": sessions,
                "autorisations": records,
                **(
                    {"travail": _schoolwork_export(loan)}
                    if apps.is_installed("cartable.schoolwork")
                    else {}
                ),
            }
        )
    return {
        "exporté le": timezone.now().isoformat(),
        "élève": {
            "identifiant": pupil.pk,
            "prénom d'usage": pupil.display_name,
            "créé le": _iso(pupil.created_at),
            "classe": {"nom": klass.name, "niveau": klass.get_level_display()},
            "année scolaire": klass.school_year,
            "établissement": {"nom": school.name, "code UAI": school.uai},
        },
        "mises à disposition": loans,
        "non conservé": [
            "les images et les sons des séances (jamais enregistrés)",
            "les messages de la discussion (jamais enregistrés)",
        ],
    }


def _schoolwork_export(loan: Loan) -> list[dict]:
    from cartable.schoolwork.services import loan_export

    return loan_export(loan)


# Pseudonymise and erase -------------------------------------------------------------------


def _pseudonymise(pupil: Pupil) -> None:
    """The name goes; what is kept for the evaluation stays, linked to no one."""
    from cartable.live.models import LiveSession

    loans = Loan.objects.filter(pupil=pupil)
    # The family's and hospital staff's roles over the loan would name the pupil.
    RoleGrant.objects.filter(loan__in=loans).delete()
    Invitation.objects.filter(loan__in=loans).delete()
    LiveSession.objects.filter(loan__in=loans, started_by__isnull=False).update(started_by=None)
    Pupil.objects.filter(pk=pupil.pk).update(display_name=PSEUDONYM)
    pupil.display_name = PSEUDONYM


def _check_not_running(pupil: Pupil, *, holding_kit: bool) -> None:
    statuses = Loan.HOLDING_KIT if holding_kit else Loan.UNDER_WAY
    if Loan.objects.filter(pupil=pupil, status__in=statuses).exists():
        raise RightsRefused(
            "Cet élève a une mise à disposition en cours (le cartable n'est pas rendu) : "
            "elle doit être terminée et le cartable rendu avant."
            if holding_kit
            else "Cet élève a une mise à disposition en cours : elle doit être terminée avant."
        )


def pupil_pseudonymise(*, pupil: Pupil, by) -> Pupil:
    with transaction.atomic():
        pupil = Pupil.objects.select_for_update().get(pk=pupil.pk)
        if pupil.display_name == PSEUDONYM:
            raise RightsRefused("Cet élève est déjà pseudonymisé.")
        _check_not_running(pupil, holding_kit=False)
        _pseudonymise(pupil)
        audit.record(by, audit.Verb.PSEUDONYMISE, pupil, detail="droit des personnes")
    return pupil


def pupil_erase(*, pupil: Pupil, by) -> int:
    """Delete the pupil and everything about them: loans, their steps, live sessions,
    attendance and quality, paired tablets, pairing codes, roles and invitations over the
    loans, consent records. Returns the pupil's id."""
    from cartable.live.models import LiveSession

    pupil_id = pupil.pk
    try:
        with transaction.atomic():
            pupil = Pupil.objects.select_for_update().get(pk=pupil_id)
            _check_not_running(pupil, holding_kit=True)
            loans = Loan.objects.filter(pupil=pupil)
            LiveSession.objects.filter(loan__in=loans).delete()
            for model in consent_models():
                model.objects.filter(loan__in=loans).delete()
            loans.delete()
            audit.record(by, audit.Verb.ERASE, pupil, detail="droit des personnes")
            pupil.delete()
    except ProtectedError as exc:
        raise RightsRefused(
            "L'effacement est refusé : d'autres données dépendent encore de cet élève "
            f"({exc.protected_objects.model._meta.verbose_name}). Rien n'a été effacé."
        ) from exc
    return pupil_id


def pupils_due(today: date):
    """Pupils whose name is past its period: no running loan, and every loan ended more
    than ``PUPIL_NAME_WEEKS`` weeks ago (pupils without a loan: created that long ago)."""
    cutoff = today - timedelta(weeks=name_weeks())
    recent = Loan.objects.exclude(pk__in=loans_over(cutoff).values("pk"))
    candidates = Pupil.objects.exclude(display_name=PSEUDONYM).exclude(
        pk__in=recent.values("pupil_id")
    )
    with_loans = candidates.filter(loans__isnull=False).distinct()
    without = candidates.filter(loans__isnull=True, created_at__lt=_start_of(cutoff))
    return with_loans, without
