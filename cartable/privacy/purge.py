"""What ``cartable purge`` does for each declaration of ``register.py``: delete or
pseudonymise what is past its period. Each function takes the moment of the run and
returns what it did (``{"supprimés": 3}``); each runs in its own transaction; running it
again at once finds nothing left to do."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cartable.fleet.models import Loan

from .models import AUDIT_RETENTION_DAYS, AuditEntry
from .services import PSEUDONYM, consent_models, loans_over, name_weeks, pupils_due

INVITATION_KEPT_DAYS = 30  # after its expiry
PAIRING_CODE_KEPT_DAYS = 30  # after its expiry
REVOKED_CREDENTIAL_KEPT_DAYS = 90  # after its revocation
CONNECTION_LOG_DAYS = 183  # six months


def _name_cutoff(now: datetime):
    return timezone.localdate(now) - timedelta(weeks=name_weeks())


def pupils(now: datetime) -> dict[str, int]:
    from cartable.organisation.models import Pupil

    from .services import _pseudonymise

    with_loans, without = pupils_due(timezone.localdate(now))
    pseudonymised = 0
    for pupil in Pupil.objects.filter(pk__in=with_loans.values("pk")):
        _pseudonymise(pupil)
        pseudonymised += 1
    deleted, _ = without.delete()
    return {"pseudonymisés": pseudonymised, "supprimés": deleted}


def live_sessions(now: datetime) -> dict[str, int]:
    from cartable.live.models import LiveSession

    over = loans_over(_name_cutoff(now))
    changed = LiveSession.objects.filter(loan__in=over, started_by__isnull=False).update(
        started_by=None
    )
    return {"pseudonymisées": changed}


def accounts(now: datetime) -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    cutoff = now - timedelta(days=settings.PRIVACY["ACCOUNT_INACTIVE_DAYS"])
    idle = (
        get_user_model()
        .objects.filter(is_superuser=False)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
    )
    # Count the accounts, not what their deletion takes along (roles, devices).
    count = idle.count()
    idle.delete()
    return {"supprimés": count}


def role_grants(now: datetime) -> dict[str, int]:
    from cartable.organisation.models import RoleGrant

    over = loans_over(_name_cutoff(now))
    deleted, _ = RoleGrant.objects.filter(loan__in=over).delete()
    return {"supprimés": deleted}


def invitations(now: datetime) -> dict[str, int]:
    from cartable.organisation.models import Invitation

    cutoff = now - timedelta(days=INVITATION_KEPT_DAYS)
    deleted, _ = Invitation.objects.filter(expires_at__lt=cutoff).delete()
    return {"supprimées": deleted}


def sessions(now: datetime) -> dict[str, int]:
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return {"supprimées": deleted}


def audit_log(now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=AUDIT_RETENTION_DAYS)
    return {"supprimées": AuditEntry.objects.all()._purge_older_than(cutoff)}


def connection_logs(now: datetime) -> dict[str, int]:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    cutoff = now - timedelta(days=CONNECTION_LOG_DAYS)
    deleted = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        deleted += model.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return {"supprimées": deleted}


def pairing_codes(now: datetime) -> dict[str, int]:
    from cartable.live.models import PairingCode

    cutoff = now - timedelta(days=PAIRING_CODE_KEPT_DAYS)
    deleted, _ = PairingCode.objects.filter(expires_at__lt=cutoff).delete()
    return {"supprimés": deleted}


def credentials(now: datetime) -> dict[str, int]:
    from cartable.fleet.models import DeviceCredential
    from cartable.fleet.services import pupil_tablets_revoke

    # A pupil tablet still paired with a loan that is over (ended before tablets were
    # revoked with their loan, or forgotten past its grace period) is revoked now, then
    # deleted like every revoked credential once its period has passed.
    revoked = 0
    still_paired = DeviceCredential.objects.filter(
        kind=DeviceCredential.Kind.PUPIL_TABLET,
        revoked_at__isnull=True,
        loan__in=loans_over(timezone.localdate(now)),
    )
    for loan_id in still_paired.values_list("loan_id", flat=True).distinct():
        revoked += pupil_tablets_revoke(loan=Loan.objects.get(pk=loan_id))
    cutoff = now - timedelta(days=REVOKED_CREDENTIAL_KEPT_DAYS)
    deleted, _ = DeviceCredential.objects.filter(revoked_at__lt=cutoff).delete()
    return {"révoqués": revoked, "supprimés": deleted}


def heartbeats(now: datetime) -> dict[str, int]:
    from cartable.fleet.heartbeats import fold

    report = fold(now=now)
    return {"repliés puis supprimés": report.heartbeats}


def consent_records(now: datetime) -> dict[str, int]:
    models = consent_models()
    if not models:
        return {}
    from cartable.consent.models import RETENTION_AFTER_LOAN_END

    over = loans_over(timezone.localdate(now) - RETENTION_AFTER_LOAN_END)
    deleted = 0
    for model in models:
        deleted += model.objects.filter(loan__in=over).delete()[0]
    return {"supprimés": deleted}


def run(declarations, now: datetime | None = None) -> list[tuple[object, dict[str, int]]]:
    """Apply every declaration that has a purge, each in its own transaction."""
    now = now or timezone.now()
    done = []
    for declaration in declarations:
        if declaration.purge is None:
            continue
        with transaction.atomic():
            counts = declaration.purge(now)
        done.append((declaration, counts))
    return done


__all__ = ["PSEUDONYM", "run"]
