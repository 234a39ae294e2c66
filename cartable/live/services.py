"""Writes for live sessions, attendance and pairing. Keyword-only, atomic."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from cartable.consent.services import missing_records
from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_issue, credential_revoke

from .events import send_event
from .models import Attendance, LiveSession, PairingCode, SessionQuality, last_sign_of_life

log = logging.getLogger(__name__)


class LiveError(Exception):
    """A refused live action; ``code`` is the protocol error code."""

    def __init__(self, code: str, message: str, **fields):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields  # more fields of the error message (``missing``)


# A session nobody has attended for this long was abandoned (the class tablet was switched
# off rather than « Terminer la séance » pressed): it is ended at its last presence, so
# lesson durations stay true and the next lesson starts afresh.
ABANDONED_AFTER = timedelta(minutes=30)


def stale_before(now) -> datetime:
    """Rows with no sign of life since this time are held by no live socket."""
    return now - timedelta(seconds=settings.LIVE["PRESENCE_STALE_SECONDS"])


def attendance_close_stale(*, now=None, session_id: int | None = None, seen_before=None) -> int:
    """Close the open attendance rows that no live socket holds, at their last sign of life.

    A row is held by a live socket as long as its consumer refreshes ``last_seen_at`` (every
    ``LIVE['HEARTBEAT_SECONDS']``); one not refreshed since ``seen_before`` (by default
    ``LIVE['PRESENCE_STALE_SECONDS']`` ago) belongs to a connection whose server died.
    """
    now = now or timezone.now()
    seen_before = seen_before or stale_before(now)
    rows = Attendance.objects.filter(left_at__isnull=True).filter(
        Q(last_seen_at__lt=seen_before) | Q(last_seen_at__isnull=True, joined_at__lt=seen_before)
    )
    if session_id is not None:
        rows = rows.filter(session_id=session_id)
    closed = rows.update(left_at=last_sign_of_life())
    if closed:
        log.info("live attendance closed at last sign of life rows=%s", closed)
    return closed


def _abandon_if_idle(session: LiveSession, now) -> bool:
    """End ``session`` as abandoned if nobody has attended it for ``ABANDONED_AFTER``."""
    attendance = session.attendance.all()
    if attendance.filter(left_at__isnull=True).exists():
        return False
    last_seen = attendance.aggregate(last=Max("left_at"))["last"] or session.started_at
    if now - last_seen < ABANDONED_AFTER:
        return False
    with transaction.atomic():
        ended = LiveSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=last_seen, end_reason=LiveSession.EndReason.ABANDONED
        )
    if ended:
        log.info("live session abandoned session=%s", session.pk)
    return bool(ended)


def open_session(loan_id: int) -> LiveSession | None:
    """The loan's live session, or None: one nobody has attended (no row held by a live
    socket) for ``ABANDONED_AFTER`` is ended then at its last presence, so a class coming
    back hours after a crash starts a new session rather than resuming a lesson of hours."""
    session = LiveSession.objects.filter(loan_id=loan_id, ended_at__isnull=True).first()
    if session is None:
        return None
    now = timezone.now()
    attendance_close_stale(now=now, session_id=session.pk)
    if _abandon_if_idle(session, now):
        return None
    return session


@dataclass(frozen=True)
class Swept:
    rows_closed: int
    sessions_abandoned: int


def presence_sweep(*, now=None, seen_before=None) -> Swept:
    """Close every row no live socket holds at its last sign of life, then end the sessions
    nobody has attended for ``ABANDONED_AFTER``. Idempotent; every server process runs it at
    its start and then periodically, and ``cartable live_sweep`` runs it from cron."""
    now = now or timezone.now()
    closed = attendance_close_stale(now=now, seen_before=seen_before)
    # Only the candidates are read (no open row, nobody since ABANDONED_AFTER): the sweep
    # runs every minute in every process, over every loan of the fleet.
    idle = (
        LiveSession.objects.filter(ended_at__isnull=True)
        .exclude(Exists(Attendance.objects.filter(session=OuterRef("pk"), left_at__isnull=True)))
        .annotate(last=Coalesce(Max("attendance__left_at"), "started_at"))
        .filter(last__lte=now - ABANDONED_AFTER)
    )
    abandoned = sum(_abandon_if_idle(session, now) for session in idle)
    return Swept(rows_closed=closed, sessions_abandoned=abandoned)


@transaction.atomic
def session_start(
    *, loan: Loan, by_user=None, by_device: DeviceCredential | None = None
) -> LiveSession:
    """Start the loan's live session, or return the one already open."""
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if not loan.is_active():
        raise LiveError("loan_inactive", "This loan is not running today.")
    # The authorisations before the first lesson (cartable/consent) must all be recorded.
    missing = missing_records(loan)
    if missing:
        raise LiveError(
            "consent_missing",
            "Records required before a live session are missing.",
            missing=missing,
        )
    existing = open_session(loan.pk)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            session = LiveSession.objects.create(
                loan=loan,
                started_at=timezone.now(),
                started_by=by_user if getattr(by_user, "is_authenticated", False) else None,
                started_by_device=by_device,
            )
    except IntegrityError:
        # Another class station won the race (the database keeps one open session).
        return open_session(loan.pk)
    send_event(loan.pk, "session.started", session_id=session.pk)
    return session


@transaction.atomic
def session_end(*, session: LiveSession, reason: str = LiveSession.EndReason.ENDED_BY_CLASS):
    session = LiveSession.objects.select_for_update().get(pk=session.pk)
    if session.ended_at is not None:
        return session
    now = timezone.now()
    session.ended_at = now
    session.end_reason = reason
    session.save(update_fields=["ended_at", "end_reason"])
    # A side whose server died meanwhile left at its last sign of life, not now.
    attendance_close_stale(now=now, session_id=session.pk)
    Attendance.objects.filter(session=session, left_at__isnull=True).update(
        left_at=now, last_seen_at=now
    )
    send_event(session.loan_id, "session.ended", session_id=session.pk, reason=reason)
    return session


@transaction.atomic
def attendance_join(*, session: LiveSession, side: str) -> Attendance:
    now = timezone.now()
    # One connection per side: a row still open for this side belongs to a connection that
    # vanished without closing it (its worker was killed) or is being replaced (a reloaded
    # tablet), so it ends at its last sign of life.
    Attendance.objects.filter(session=session, side=side, left_at__isnull=True).update(
        left_at=last_sign_of_life()
    )
    return Attendance.objects.create(session=session, side=side, joined_at=now, last_seen_at=now)


def attendance_touch(*, attendance_id: int) -> bool:
    """A sign of life of the connection holding the row; False if the row is closed."""
    return bool(
        Attendance.objects.filter(pk=attendance_id, left_at__isnull=True).update(
            last_seen_at=timezone.now()
        )
    )


@transaction.atomic
def attendance_resume(*, session_id: int, side: str) -> Attendance | None:
    """A new row for a connection whose row was closed under it (the sweep found it silent:
    a stalled server), if the session is still open and no other connection holds the side."""
    session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.ended_at is not None:
        return None
    if Attendance.objects.filter(session=session, side=side, left_at__isnull=True).exists():
        return None
    now = timezone.now()
    return Attendance.objects.create(session=session, side=side, joined_at=now, last_seen_at=now)


def quality_record(*, session_id: int, side: str, sample) -> None:
    """Fold one quality sample into the session's aggregates for that side."""
    quality, _ = SessionQuality.objects.get_or_create(session_id=session_id, side=side)
    changes = {
        "samples": F("samples") + 1,
        sample.level: F(sample.level) + 1,
        "loss_pct_sum": F("loss_pct_sum") + sample.loss_pct,
        "freezes": F("freezes") + sample.freezes,
    }
    if sample.bitrate_kbps is not None:
        changes["bitrate_samples"] = F("bitrate_samples") + 1
        changes["bitrate_kbps_sum"] = F("bitrate_kbps_sum") + sample.bitrate_kbps
    if sample.relayed:
        changes["relayed"] = F("relayed") + 1
    if sample.rtt_ms is not None:
        changes["rtt_samples"] = F("rtt_samples") + 1
        changes["rtt_ms_sum"] = F("rtt_ms_sum") + sample.rtt_ms
        changes["rtt_ms_max"] = Greatest(F("rtt_ms_max"), sample.rtt_ms)
    if sample.fps is not None:
        changes["fps_samples"] = F("fps_samples") + 1
        changes["fps_sum"] = F("fps_sum") + sample.fps
    SessionQuality.objects.filter(pk=quality.pk).update(**changes)


def attendance_leave(*, attendance: Attendance) -> None:
    # Only an open row is closed: session_end may have closed it already.
    now = timezone.now()
    Attendance.objects.filter(pk=attendance.pk, left_at__isnull=True).update(
        left_at=now, last_seen_at=now
    )


# Pairing ---------------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    # Keyed with the server's secret: six digits hashed alone would be found at once by
    # anyone reading the database.
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    pairing: PairingCode
    code: str  # locator + secret, digits only; shown once

    @property
    def display(self) -> str:
        return f"{self.code[:4]} {self.code[4:7]} {self.code[7:]}"


@transaction.atomic
def pairing_code_create(*, loan: Loan, by=None) -> IssuedCode:
    if not loan.is_active():
        raise LiveError("loan_inactive", "Cette mise à disposition n'est pas en cours.")
    now = timezone.now()
    # Expired codes free their locator, so the 10,000 locators are never exhausted.
    PairingCode.objects.filter(
        expires_at__lte=now, used_at__isnull=True, dead_at__isnull=True
    ).update(dead_at=now)
    # One live code per loan: showing a new code kills the previous one.
    PairingCode.objects.filter(loan=loan, used_at__isnull=True, dead_at__isnull=True).update(
        dead_at=now
    )
    digits = settings.PAIRING["CODE_DIGITS"]
    secret = "".join(secrets.choice("0123456789") for _ in range(digits))
    for _ in range(50):
        locator = f"{secrets.randbelow(10_000):04d}"
        try:
            with transaction.atomic():
                pairing = PairingCode.objects.create(
                    loan=loan,
                    locator=locator,
                    secret_hash=_hash_secret(secret),
                    created_at=now,
                    expires_at=now + timedelta(seconds=settings.PAIRING["VALID_SECONDS"]),
                    created_by=by,
                )
            return IssuedCode(pairing=pairing, code=locator + secret)
        except IntegrityError:
            continue
    raise LiveError("busy", "Trop de codes en cours ; réessayez dans une minute.")


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw if not ch.isspace() and ch not in "-.")


class PairingRefused(Exception):
    """The code did not pair; ``reason`` is logged, the person sees one generic message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def pairing_redeem(*, code: str, label: str = "") -> tuple[DeviceCredential, str]:
    """Trade a pairing code for a pupil-tablet credential. Raises PairingRefused.

    A wrong try is committed even though the redemption fails: the refusal is raised after
    the transaction that counted it.
    """
    code = normalise_code(code)
    digits = settings.PAIRING["CODE_DIGITS"]
    if not code.isdigit() or len(code) != 4 + digits:
        raise PairingRefused("malformed")
    locator, secret = code[:4], code[4:]
    now = timezone.now()
    refusal = None
    with transaction.atomic():
        pairing = (
            PairingCode.objects.select_for_update()
            .select_related("loan")
            .filter(locator=locator, used_at__isnull=True, dead_at__isnull=True)
            .first()
        )
        if pairing is None:
            refusal = "unknown"
        elif pairing.expires_at <= now:
            pairing.dead_at = now
            pairing.save(update_fields=["dead_at"])
            refusal = "expired"
        elif not hmac.compare_digest(_hash_secret(secret), pairing.secret_hash):
            pairing.wrong_tries += 1
            fields = ["wrong_tries"]
            if pairing.wrong_tries >= settings.PAIRING["MAX_WRONG_TRIES"]:
                pairing.dead_at = now
                fields.append("dead_at")
            pairing.save(update_fields=fields)
            refusal = "wrong_secret"
        elif not pairing.loan.is_active():
            pairing.dead_at = now
            pairing.save(update_fields=["dead_at"])
            refusal = "loan_inactive"
        else:
            credential, token = credential_issue(
                kind=DeviceCredential.Kind.PUPIL_TABLET,
                loan=pairing.loan,
                label=label or "Tablette de l'élève",
                by=pairing.created_by,
            )
            pairing.used_at = now
            pairing.credential = credential
            pairing.save(update_fields=["used_at", "credential"])
    # Raised outside the transaction, so the counted wrong try is kept.
    if refusal is not None:
        raise PairingRefused(refusal)
    return credential, token


@transaction.atomic
def paired_device_revoke(*, credential: DeviceCredential, by=None) -> DeviceCredential:
    """Revoke a paired tablet and close its open signalling connection, if any."""
    credential = credential_revoke(credential=credential, by=by)
    if credential.loan_id is not None:
        send_event(credential.loan_id, "credential.revoked", credential_id=credential.pk)
    return credential
