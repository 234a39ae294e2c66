"""Writes on kits, loans and device credentials."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import (
    INSTALLED_FIELD,
    KIT_TRANSITIONS,
    LOAN_STEPS,
    Device,
    DeviceCredential,
    EnrolmentCode,
    Kit,
    KitStatusChange,
    Loan,
    LoanEvent,
    LoanStep,
)

log = logging.getLogger(__name__)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def credential_issue(
    *,
    kind: str,
    loan: Loan | None = None,
    kit: Kit | None = None,
    device=None,
    label: str = "",
    by=None,
) -> tuple[DeviceCredential, str]:
    """Create a credential and return it with its token, which is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    credential = DeviceCredential.objects.create(
        kind=kind,
        loan=loan,
        kit=kit,
        device=device,
        label=label[:80],
        secret_hash=_hash(secret),
        created_by=by,
    )
    return credential, f"{credential.pk}.{secret}"


def credential_authenticate(
    token: str | None, *, related: tuple[str, ...] = ("loan", "kit")
) -> DeviceCredential | None:
    """The live credential for ``token``, or None (unknown, malformed, forged or revoked).

    ``related``: what to read with it in the same query (the device API, called every
    minute by every device, asks for nothing more: a join costs more than the rest)."""
    if not token or len(token) > 200 or "." not in token:
        return None
    pk, _, secret = token.partition(".")
    # ASCII digits only: str.isdigit() also accepts "²" and other Unicode digits, which int()
    # then rejects with ValueError, so a forged cookie or header crashed every page and the
    # WebSocket handshake with a 500 instead of being refused.
    if not (pk.isascii() and pk.isdigit()):
        return None
    credential = DeviceCredential.objects.select_related(*related).filter(pk=int(pk)).first()
    # Hash the secret even when the id is unknown, so timing does not tell ids apart.
    presented = _hash(secret)
    if credential is None:
        hmac.compare_digest(presented, "0" * 64)
        return None
    if not hmac.compare_digest(presented, credential.secret_hash):
        return None
    if credential.revoked_at is not None:
        return None
    return credential


def credential_touch(credential: DeviceCredential) -> None:
    """Note that the device was seen (at most once a minute, to spare the database)."""
    now = timezone.now()
    if credential.last_seen_at is None or (now - credential.last_seen_at).total_seconds() > 60:
        credential.last_seen_at = now
        credential.save(update_fields=["last_seen_at"])


@transaction.atomic
def credential_revoke(*, credential: DeviceCredential, by=None) -> DeviceCredential:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.revoked_by = by
        credential.save(update_fields=["revoked_at", "revoked_by"])
    return credential


# Kits and loans ----------------------------------------------------------------------------


class FleetError(Exception):
    """A refused change, with a message in French for the person who asked for it."""


def _lock(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _record_kit_status(kit: Kit, to: str, *, by=None, note: str = "", at=None) -> None:
    at = at or timezone.now()
    KitStatusChange.objects.create(
        kit=kit, from_status=kit.status, to_status=to, at=at, by=by, note=note[:200]
    )
    kit.status = to
    kit.status_changed_at = at
    kit.save(update_fields=["status", "status_changed_at"])


@transaction.atomic
def kit_create(*, code: str, generation: str = Kit.Generation.G3, by=None) -> Kit:
    code = code.strip()
    if Kit.objects.filter(code__iexact=code).exists():
        raise FleetError(f"Un cartable porte déjà la référence « {code} ».")
    kit = Kit.objects.create(code=code, generation=generation, status=Kit.Status.IN_STOCK)
    KitStatusChange.objects.create(kit=kit, to_status=Kit.Status.IN_STOCK, by=by, note="Entrée")
    return kit


# What the fleet team sets by hand; the other statuses are steps of a loan.
HAND_STATUSES = frozenset(
    {Kit.Status.IN_STOCK, Kit.Status.IN_REPAIR, Kit.Status.RETIRED, Kit.Status.RETURNING}
)


def kit_may_go(kit: Kit, to: str) -> bool:
    return to in KIT_TRANSITIONS.get(kit.status, frozenset())


@transaction.atomic
def kit_set_status(*, kit: Kit, to: str, by=None, note: str = "") -> Kit:
    """Change a kit's status by hand (repair, retirement, back in stock…), if allowed.

    The steps of a loan (reserved, shipped, installed, on loan, returning) go through the
    loan functions below, which keep the loan and its kit in step."""
    kit = _lock(Kit, kit.pk)
    if to not in Kit.Status.values:
        raise FleetError("Statut inconnu.")
    if not kit_may_go(kit, to):
        raise FleetError(
            f"Un cartable « {kit.get_status_display().lower()} » ne peut pas passer "
            f"à « {Kit.Status(to).label.lower()} »."
        )
    if Loan.objects.holding_kit().filter(kit=kit).exists():
        raise FleetError(
            "Ce cartable est attribué à une mise à disposition en cours : son statut suit "
            "les étapes de la mise à disposition (page du prêt)."
        )
    if to not in HAND_STATUSES:
        raise FleetError(
            f"« {Kit.Status(to).label} » est une étape de mise à disposition : elle se fait "
            "depuis la page du prêt."
        )
    _record_kit_status(kit, to, by=by, note=note)
    return kit


def pilot_allows(kit: Kit, loan: Loan) -> bool:
    """V5 kits go only to the académies of the V5 pilot; the third generation anywhere."""
    if kit.generation != Kit.Generation.V5:
        return True
    department = loan.school_class.school.department
    academy_code = department.academy.code if department and department.academy_id else None
    return academy_code in settings.FLEET["V5_PILOT_ACADEMIES"]


def _event(loan: Loan, kind: str, *, by=None, detail: str = "", at=None) -> LoanEvent:
    return LoanEvent.objects.create(
        loan=loan, kind=kind, by=by, detail=detail[:200], at=at or timezone.now()
    )


@transaction.atomic
def loan_request(
    *,
    pupil,
    starts_on,
    ends_on,
    place_kind: str,
    pupil_department=None,
    by=None,
) -> Loan:
    """A coordinator asks for a kit for a pupil (in the pupil's class)."""
    if ends_on < starts_on:
        raise FleetError("La fin prévue doit suivre le début.")
    # Lock the pupil: two requests for the same pupil at once make one loan, not two.
    type(pupil).objects.select_for_update().filter(pk=pupil.pk).first()
    if (
        Loan.objects.filter(pupil=pupil)
        .exclude(status__in=(Loan.Status.RETURNED, Loan.Status.CANCELLED, Loan.Status.ENDED))
        .exists()
    ):
        raise FleetError("Une mise à disposition est déjà demandée ou en cours pour cet élève.")
    loan = Loan.objects.create(
        pupil=pupil,
        school_class=pupil.school_class,
        starts_on=starts_on,
        ends_on=ends_on,
        place_kind=place_kind,
        pupil_department=pupil_department,
        status=Loan.Status.REQUESTED,
        requested_by=by,
    )
    _event(loan, LoanEvent.Kind.REQUESTED, by=by, at=loan.created_at)
    return loan


def _expect(loan: Loan, step: str) -> None:
    """Refuse ``step`` unless the loan's life cycle allows it from its status."""
    if loan.status not in LOAN_STEPS[step]:
        raise FleetError(
            f"Cette mise à disposition est à l'étape « {loan.get_status_display()} » : "
            "cette action n'est plus possible."
        )


@transaction.atomic
def loan_assign(*, loan: Loan, kit: Kit, by=None) -> Loan:
    """The fleet team gives a kit in stock to a requested loan (the kit is reserved)."""
    loan = _lock(Loan, loan.pk)
    kit = _lock(Kit, kit.pk)
    _expect(loan, LoanStep.ASSIGN)
    if kit.status != Kit.Status.IN_STOCK:
        raise FleetError(f"Le cartable {kit.code} n'est pas en stock.")
    if not pilot_allows(kit, loan):
        raise FleetError(
            f"Le cartable {kit.code} est de génération V5 : il ne peut aller que dans les "
            "académies du pilote V5."
        )
    if Loan.objects.holding_kit().filter(kit=kit).exists():
        raise FleetError(
            f"Le cartable {kit.code} est déjà attribué à une autre mise à disposition."
        )
    now = timezone.now()
    loan.kit = kit
    loan.status = Loan.Status.ASSIGNED
    loan.assigned_at = now
    try:
        with transaction.atomic():
            loan.save(update_fields=["kit", "status", "assigned_at"])
    except IntegrityError:
        # The database's "one open loan per kit": another assignment won meanwhile.
        raise FleetError(
            f"Le cartable {kit.code} est déjà attribué à une autre mise à disposition."
        ) from None
    _record_kit_status(
        kit, Kit.Status.RESERVED, by=by, at=now, note=f"Mise à disposition {loan.pk}"
    )
    _event(loan, LoanEvent.Kind.ASSIGNED, by=by, at=now, detail=kit.code)
    return loan


@transaction.atomic
def loan_ship(*, loan: Loan, by=None) -> Loan:
    loan = _lock(Loan, loan.pk)
    _expect(loan, LoanStep.SHIP)
    kit = _lock(Kit, loan.kit_id)
    now = timezone.now()
    loan.status = Loan.Status.SHIPPED
    loan.shipped_at = now
    loan.save(update_fields=["status", "shipped_at"])
    _record_kit_status(kit, Kit.Status.SHIPPED, by=by, at=now, note=f"Mise à disposition {loan.pk}")
    _event(loan, LoanEvent.Kind.SHIPPED, by=by, at=now)
    return loan


CLASS_SIDE = "class"
PUPIL_SIDE = "pupil"


@transaction.atomic
def loan_confirm_installation(*, loan: Loan, side: str, by=None) -> Loan:
    """Installation confirmed on one side; once both sides are, the loan runs."""
    loan = _lock(Loan, loan.pk)
    step = {CLASS_SIDE: LoanStep.INSTALL_CLASS, PUPIL_SIDE: LoanStep.INSTALL_PUPIL}.get(side)
    if step is None:
        raise FleetError("Côté d'installation inconnu.")
    _expect(loan, step)
    field = INSTALLED_FIELD[step]
    if getattr(loan, field) is not None:
        raise FleetError("Cette installation est déjà confirmée.")
    now = timezone.now()
    setattr(loan, field, now)
    kind = LoanEvent.Kind.CLASS_INSTALLED if side == CLASS_SIDE else LoanEvent.Kind.PUPIL_INSTALLED
    _event(loan, kind, by=by, at=now)
    kit = _lock(Kit, loan.kit_id)
    if kit.status == Kit.Status.SHIPPED:
        _record_kit_status(kit, Kit.Status.INSTALLED, by=by, at=now)
    if loan.class_installed_at and loan.pupil_installed_at:
        loan.status = Loan.Status.ACTIVE
        if kit.status == Kit.Status.INSTALLED:
            _record_kit_status(kit, Kit.Status.ON_LOAN, by=by, at=now)
    loan.save(update_fields=[field, "status"])
    return loan


@transaction.atomic
def loan_extend(*, loan: Loan, ends_on, by=None) -> Loan:
    loan = _lock(Loan, loan.pk)
    _expect(loan, LoanStep.EXTEND)
    if ends_on <= loan.ends_on:
        raise FleetError(
            f"La nouvelle fin doit être après la fin prévue actuelle ({loan.ends_on:%d/%m/%Y})."
        )
    before = loan.ends_on
    loan.ends_on = ends_on
    loan.save(update_fields=["ends_on"])
    _event(loan, LoanEvent.Kind.EXTENDED, by=by, detail=f"{before:%Y-%m-%d} → {ends_on:%Y-%m-%d}")
    return loan


def _stop_live_sessions(loan: Loan) -> None:
    """A lesson under way when its loan ends stops now, on both sides (they are told)."""
    from cartable.live.models import LiveSession
    from cartable.live.services import session_end

    for session in LiveSession.objects.filter(loan=loan, ended_at__isnull=True):
        session_end(session=session, reason=LiveSession.EndReason.LOAN_ENDED)


def pupil_tablets_revoke(*, loan: Loan, by=None) -> int:
    """Revoke the loan's paired pupil tablets (their open socket is closed): a tablet works
    for its loan only, and a revoked credential is purged after its period. Returns how
    many were revoked."""
    from cartable.live.services import paired_device_revoke

    tablets = DeviceCredential.objects.filter(
        loan=loan, kind=DeviceCredential.Kind.PUPIL_TABLET, revoked_at__isnull=True
    )
    count = 0
    for credential in tablets:
        paired_device_revoke(credential=credential, by=by)
        count += 1
    return count


@transaction.atomic
def loan_end(*, loan: Loan, by=None) -> Loan:
    """The loan stops: no more live lessons (one under way stops), its tablets are no longer
    paired; the kit is expected back."""
    loan = _lock(Loan, loan.pk)
    _expect(loan, LoanStep.END)
    now = timezone.now()
    loan.status = Loan.Status.ENDED
    loan.ended_at = now
    loan.save(update_fields=["status", "ended_at"])
    _stop_live_sessions(loan)
    pupil_tablets_revoke(loan=loan, by=by)
    kit = _lock(Kit, loan.kit_id)
    if kit_may_go(kit, Kit.Status.RETURNING):
        _record_kit_status(kit, Kit.Status.RETURNING, by=by, at=now, note=f"Fin {loan.pk}")
    _event(loan, LoanEvent.Kind.ENDED, by=by, at=now)
    return loan


@transaction.atomic
def loan_cancel(*, loan: Loan, by=None) -> Loan:
    """A request, or an assignment not yet shipped, is withdrawn (the kit goes back)."""
    loan = _lock(Loan, loan.pk)
    _expect(loan, LoanStep.CANCEL)
    now = timezone.now()
    if loan.kit_id is not None:
        kit = _lock(Kit, loan.kit_id)
        if kit.status == Kit.Status.RESERVED:
            _record_kit_status(
                kit, Kit.Status.IN_STOCK, by=by, at=now, note=f"Annulation {loan.pk}"
            )
    loan.status = Loan.Status.CANCELLED
    loan.ended_at = now
    loan.save(update_fields=["status", "ended_at"])
    _stop_live_sessions(loan)
    pupil_tablets_revoke(loan=loan, by=by)
    _event(loan, LoanEvent.Kind.CANCELLED, by=by, at=now)
    return loan


@transaction.atomic
def loan_return(*, loan: Loan, by=None, needs_repair: bool = False) -> Loan:
    """The kit is back at the fleet team: the loan is closed, the kit in stock or in repair."""
    loan = _lock(Loan, loan.pk)
    _expect(loan, LoanStep.RETURN)
    now = timezone.now()
    loan.status = Loan.Status.RETURNED
    loan.returned_at = now
    loan.save(update_fields=["status", "returned_at"])
    kit = _lock(Kit, loan.kit_id)
    target = Kit.Status.IN_REPAIR if needs_repair else Kit.Status.IN_STOCK
    if kit.status != Kit.Status.RETURNING and kit_may_go(kit, Kit.Status.RETURNING):
        _record_kit_status(kit, Kit.Status.RETURNING, by=by, at=now)
    if kit_may_go(kit, target):
        _record_kit_status(kit, target, by=by, at=now, note=f"Retour {loan.pk}")
    _event(loan, LoanEvent.Kind.RETURNED, by=by, at=now, detail="à réparer" if needs_repair else "")
    return loan


# Loans past their planned end ---------------------------------------------------------------


def _overdue_detail(loan: Loan) -> str:
    # One notice per planned end: a loan extended and overdue again is notified again.
    return f"fin prévue {loan.ends_on:%Y-%m-%d}"


def loans_overdue_notify(*, today=None) -> dict[str, int]:
    """Tell each overdue loan's département coordinators, once per planned end, that it must
    be extended, ended or cancelled (no pupil's name in the email: it stays in mailboxes).

    Each loan is its own transaction: the notice is recorded (a ``LoanEvent``) only with
    its email sent, so a failed send is tried again at the next run."""
    from django.core.mail import send_mail

    from cartable.organisation.models import Role, RoleGrant
    from cartable.privacy.services import loan_ended_on, name_kept_until

    today = today or timezone.localdate()
    base = settings.SURVEYS["SITE_URL"].rstrip("/")
    done = {"prévenus": 0, "sans coordonnateur": 0}
    overdue = Loan.objects.overdue(today).select_related("kit", "school_class__school")
    for loan in overdue.order_by("pk"):
        detail = _overdue_detail(loan)
        if loan.events.filter(kind=LoanEvent.Kind.OVERDUE, detail=detail).exists():
            continue
        school = loan.school_class.school
        emails = sorted(
            set(
                RoleGrant.objects.filter(
                    role=Role.DEPARTMENT,
                    department_id=school.department_id,
                    user__is_active=True,
                )
                .exclude(user__email="")
                .values_list("user__email", flat=True)
            )
        )
        if not emails:
            done["sans coordonnateur"] += 1
            continue
        kit = loan.kit.code if loan.kit_id else "pas encore attribué"
        body = (
            "Bonjour,\n\n"
            f"La mise à disposition n° {loan.pk} (cartable {kit}, classe "
            f"{loan.school_class.name}, {school.name}) devait se terminer le "
            f"{loan.ends_on:%d/%m/%Y}. Personne ne l'a terminée sur la plateforme.\n\n"
            "Si le prêt continue, prolongez-le ; sinon terminez-le (ou annulez la demande), "
            "pour que le cartable soit repris et que la tablette de l'élève ne soit plus "
            f"appairée :\n{base}/prets/{loan.pk}/\n\n"
            "Sans suite, elle comptera comme terminée le "
            f"{loan_ended_on(loan):%d/%m/%Y} pour la conservation des données, et le prénom de "
            f"l'élève sera pseudonymisé après le {name_kept_until(loan):%d/%m/%Y}.\n"
        )
        try:
            with transaction.atomic():
                _event(loan, LoanEvent.Kind.OVERDUE, detail=detail)
                send_mail(
                    f"Mise à disposition à terminer ou prolonger (n° {loan.pk})",
                    body,
                    None,
                    emails,
                )
        except (smtplib.SMTPException, OSError):
            log.warning("overdue notice not sent loan=%s", loan.pk, exc_info=True)
            done["non envoyés"] = done.get("non envoyés", 0) + 1
            continue
        done["prévenus"] += 1
    return done


# Enrolment codes ---------------------------------------------------------------------------

# No 0/O, 1/I/L, nor U/V (misread on a worn label): 29 symbols, 16 of them ≈ 77 bits.
ENROLMENT_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
ENROLMENT_LENGTH = 16


def enrolment_code_normalise(raw: str) -> str:
    """The code as typed or scanned, without spaces or dashes, in capitals."""
    return "".join(ch for ch in (raw or "") if ch not in " -\t\n\r").upper()


def enrolment_code_hash(raw: str) -> str:
    return _hash(enrolment_code_normalise(raw))


@transaction.atomic
def enrolment_code_issue(*, device, by=None) -> tuple[EnrolmentCode, str]:
    """A new one-time enrolment code for ``device``; returned shown in groups of four
    (``ABCD-EFGH-JKMN-PQRS``), stored only as a hash. A device's earlier unused codes
    stop working (a reprinted label replaces the old one)."""
    now = timezone.now()
    EnrolmentCode.objects.filter(device=device, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = "".join(secrets.choice(ENROLMENT_ALPHABET) for _ in range(ENROLMENT_LENGTH))
    enrolment = EnrolmentCode.objects.create(
        device=device,
        code_hash=_hash(code),
        created_at=now,
        expires_at=now + timedelta(days=settings.FLEET["ENROLMENT_VALID_DAYS"]),
        created_by=by,
    )
    return enrolment, "-".join(code[i : i + 4] for i in range(0, ENROLMENT_LENGTH, 4))


class EnrolmentRefused(Exception):
    """An enrolment code that cannot be redeemed (unknown, used, expired or for another
    device). The reason is for the logs only: the device is told none of it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def enrolment_redeem(*, serial: str, code: str) -> tuple[DeviceCredential, str]:
    """Trade a device's one-time enrolment code for its own credential (single use).

    The device's earlier kit-device credentials are revoked: one device, one live token."""
    normalised = enrolment_code_normalise(code)
    if len(normalised) != ENROLMENT_LENGTH:
        raise EnrolmentRefused("malformed")
    enrolment = (
        EnrolmentCode.objects.select_for_update()
        .select_related("device")
        .filter(code_hash=_hash(normalised))
        .first()
    )
    if enrolment is None:
        raise EnrolmentRefused("unknown")
    now = timezone.now()
    if enrolment.used_at is not None:
        raise EnrolmentRefused("used")
    if enrolment.expires_at <= now:
        raise EnrolmentRefused("expired")
    device = enrolment.device
    given = (serial or "").strip().upper().encode()
    if not hmac.compare_digest(device.serial.strip().upper().encode(), given):
        raise EnrolmentRefused("serial")
    enrolment.used_at = now
    enrolment.save(update_fields=["used_at"])
    DeviceCredential.objects.filter(
        kind=DeviceCredential.Kind.KIT_DEVICE, device=device, revoked_at__isnull=True
    ).update(revoked_at=now)
    Device.objects.filter(pk=device.pk).update(enrolled_at=now)
    device.enrolled_at = now
    return credential_issue(
        kind=DeviceCredential.Kind.KIT_DEVICE, device=device, label=f"{device.kind} {device.serial}"
    )


# Devices (the register) ----------------------------------------------------------------------

SERIAL_MAX = 60


def device_serial_taken(serial: str, *, exclude_pk: int | None = None) -> bool:
    """Whether a device already has this serial number (compared without case: a label
    read as ``ab12`` or ``AB12`` is the same device)."""
    existing = Device.objects.filter(serial__iexact=serial.strip())
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    return existing.exists()


def _check_device_kit(kit: Kit | None) -> None:
    if kit is not None and kit.status == Kit.Status.RETIRED:
        raise FleetError(f"Le cartable {kit.code} est réformé : on ne lui ajoute plus d'appareil.")


@transaction.atomic
def device_create(
    *, kind: str, serial: str, software_version: str = "", kit: Kit | None = None, by=None
) -> Device:
    """Record a device of the register (of a kit, or not yet in one)."""
    serial = serial.strip()
    if kind not in Device.Kind.values:
        raise FleetError("Type d'appareil inconnu.")
    if not serial:
        raise FleetError("Indiquez le numéro de série.")
    if device_serial_taken(serial):
        raise FleetError(f"Un appareil porte déjà le numéro de série « {serial} ».")
    _check_device_kit(kit)
    try:
        with transaction.atomic():
            return Device.objects.create(
                kind=kind, serial=serial, software_version=software_version.strip(), kit=kit
            )
    except IntegrityError:  # recorded meanwhile by someone else
        raise FleetError(f"Un appareil porte déjà le numéro de série « {serial} ».") from None


@transaction.atomic
def device_update(
    *, device: Device, kind: str, software_version: str = "", kit: Kit | None = None, by=None
) -> Device:
    """Change a device's type, software version or kit (its serial number never changes)."""
    if kind not in Device.Kind.values:
        raise FleetError("Type d'appareil inconnu.")
    if kit is not None and kit.pk != device.kit_id:
        _check_device_kit(kit)
    device.kind = kind
    device.software_version = software_version.strip()
    device.kit = kit
    device.save(update_fields=["kind", "software_version", "kit"])
    return device
