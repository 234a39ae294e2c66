"""Writes on the organisation: the administrative tree (académies and départements),
classes and pupils, and the invitations that give people their roles.

The school import lives in ``importers.py`` (it is mostly parsing).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cartable.core.spreadsheet import FileRefused, read_text

from .models import (
    ROLE_SCOPE,
    Academy,
    Department,
    Invitation,
    Pupil,
    RoleGrant,
    SchoolClass,
)

ACADEMIES_CSV = Path(__file__).resolve().parent / "data" / "academies.csv"

_ACADEMY_CODE = re.compile(r"^[0-9]{2}$")
_DEPARTMENT_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|9[78][0-9])$")
_ACADEMY_COLUMNS = ("academy_code", "academy_name", "zone", "department_codes")


class ReferenceDataError(ValueError):
    """A reference file that cannot be loaded; the message says where and why, in French."""


@dataclass(frozen=True)
class AcademyRow:
    code: str
    name: str
    zone: str
    department_codes: tuple[str, ...]


@dataclass
class AcademiesLoadResult:
    academies_created: int = 0
    academies_updated: int = 0
    departments_created: int = 0
    departments_updated: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.academies_created,
                self.academies_updated,
                self.departments_created,
                self.departments_updated,
            )
        )


def normalise_academy_code(value: str) -> str:
    """``"4"`` (a spreadsheet that read the code as a number) becomes ``"04"``."""
    code = value.strip()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def normalise_department_code(value: str) -> str:
    """The INSEE code from any of the directory's spellings: ``078``/``78``, ``02A``/``2A``,
    ``974``, or ``1`` for ``01``."""
    code = value.strip().upper()
    if len(code) == 3 and code[0] == "0":
        code = code[1:]
    elif len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def _read_text(file) -> str:
    try:
        return read_text(file)
    except FileRefused as refused:
        raise ReferenceDataError(str(refused)) from refused


def academies_read(file=None) -> list[AcademyRow]:
    """Parse and check an académies file (``academy_code,academy_name,zone,department_codes``).

    Every département must appear once in the whole file: a département listed under two
    académies would make the tree ambiguous.
    """
    reader = csv.DictReader(io.StringIO(_read_text(file or ACADEMIES_CSV), newline=""))
    missing = [name for name in _ACADEMY_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ReferenceDataError(f"ligne 1 : colonnes absentes : {', '.join(missing)}")
    zones = set(Academy.Zone.values)
    rows: list[AcademyRow] = []
    seen_academies: dict[str, int] = {}
    seen_departments: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        code = normalise_academy_code(record["academy_code"] or "")
        name = " ".join((record["academy_name"] or "").split())
        zone = (record["zone"] or "").strip()
        departments = tuple(
            normalise_department_code(c) for c in (record["department_codes"] or "").split()
        )
        if not _ACADEMY_CODE.match(code):
            raise ReferenceDataError(f"ligne {line} : code d'académie invalide : {code!r}")
        if code in seen_academies:
            raise ReferenceDataError(
                f"ligne {line} : académie {code} déjà décrite ligne {seen_academies[code]}"
            )
        if not name:
            raise ReferenceDataError(f"ligne {line} : nom d'académie manquant")
        if zone not in zones:
            raise ReferenceDataError(
                f"ligne {line} : zone inconnue : {zone!r} (attendu : {', '.join(sorted(zones))})"
            )
        if not departments:
            raise ReferenceDataError(f"ligne {line} : aucun département pour l'académie {code}")
        for department in departments:
            if not _DEPARTMENT_CODE.match(department):
                raise ReferenceDataError(
                    f"ligne {line} : code de département invalide : {department!r}"
                )
            if department in seen_departments:
                raise ReferenceDataError(
                    f"ligne {line} : département {department} déjà rattaché ligne "
                    f"{seen_departments[department]}"
                )
            seen_departments[department] = line
        seen_academies[code] = line
        rows.append(AcademyRow(code=code, name=name, zone=zone, department_codes=departments))
    if not rows:
        raise ReferenceDataError("le fichier ne contient aucune académie")
    return rows


@transaction.atomic
def academies_load(*, file=None) -> AcademiesLoadResult:
    """Create or update the académies and their départements from ``file`` (default: the
    shipped ``data/academies.csv``). Idempotent; nothing is deleted, since schools and
    reports point at départements (an académie or département missing from the file is
    left as it is)."""
    rows = academies_read(file)
    result = AcademiesLoadResult()
    academies = {academy.code: academy for academy in Academy.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    for row in rows:
        academy = academies.get(row.code)
        if academy is None:
            academy = Academy.objects.create(code=row.code, name=row.name, zone=row.zone)
            academies[row.code] = academy
            result.academies_created += 1
        elif (academy.name, academy.zone) != (row.name, row.zone):
            academy.name, academy.zone = row.name, row.zone
            academy.save(update_fields=["name", "zone"])
            result.academies_updated += 1
        for code in row.department_codes:
            department = departments.get(code)
            if department is None:
                departments[code] = Department.objects.create(code=code, academy=academy)
                result.departments_created += 1
            elif department.academy_id != academy.pk:
                department.academy = academy
                department.save(update_fields=["academy"])
                result.departments_updated += 1
    return result


# Classes and pupils -----------------------------------------------------------------------
# The views check rights (through the access layer) before they call these; the services
# check what must hold whoever calls them.


class OrganisationError(Exception):
    """A refusal to show to the person, in French."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


CLASS_NAME_TAKEN = (
    "Une classe porte déjà ce nom dans cet établissement pour cette année scolaire : "
    "choisissez un autre nom (par exemple « 5e B »)."
)


def _class_name_taken(*, school, school_year: str, name: str, exclude_pk=None) -> bool:
    classes = SchoolClass.objects.filter(school=school, school_year=school_year, name__iexact=name)
    if exclude_pk is not None:
        classes = classes.exclude(pk=exclude_pk)
    return classes.exists()


@transaction.atomic
def school_class_create(*, school, name: str, level: str, school_year: str) -> SchoolClass:
    name = " ".join(name.split())
    if _class_name_taken(school=school, school_year=school_year, name=name):
        raise OrganisationError(CLASS_NAME_TAKEN, field="name")
    return SchoolClass.objects.create(
        school=school, name=name, level=level, school_year=school_year
    )


@transaction.atomic
def school_class_update(
    *, school_class: SchoolClass, school, name: str, level: str, school_year: str
) -> SchoolClass:
    name = " ".join(name.split())
    if _class_name_taken(
        school=school, school_year=school_year, name=name, exclude_pk=school_class.pk
    ):
        raise OrganisationError(CLASS_NAME_TAKEN, field="name")
    school_class.school, school_class.name = school, name
    school_class.level, school_class.school_year = level, school_year
    school_class.save(update_fields=["school", "name", "level", "school_year"])
    return school_class


@transaction.atomic
def pupil_create(*, display_name: str, school_class: SchoolClass) -> Pupil:
    return Pupil.objects.create(
        display_name=" ".join(display_name.split()), school_class=school_class
    )


@transaction.atomic
def pupil_update(*, pupil: Pupil, display_name: str, school_class: SchoolClass) -> Pupil:
    pupil.display_name = " ".join(display_name.split())
    pupil.school_class = school_class
    pupil.save(update_fields=["display_name", "school_class"])
    return pupil


# Invitations ------------------------------------------------------------------------------

INVITATION_VALID_DAYS = 7


class InvitationRefused(OrganisationError):
    pass


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _scope_fields(role: str, scope) -> dict:
    field = ROLE_SCOPE.get(role)
    return {field: scope} if field else {}


@transaction.atomic
def invitation_create(
    *, by, email: str, role: str, scope, accept_url: Callable[[str], str]
) -> Invitation:
    """Invite ``email`` to ``role`` over ``scope`` and send them the link.

    Refused unless ``by`` may give that role there (``access.may_grant``): nobody hands
    out more than they hold. The email is sent inside the transaction, so an invitation
    that could not be sent does not exist.
    """
    from .access import Actor, may_grant

    email = email.strip().lower()
    if not may_grant(Actor(user=by), role, scope):
        raise InvitationRefused(
            "Ce rôle est hors de votre périmètre : vous ne pouvez inviter que dans "
            "votre propre périmètre, et seulement aux rôles qui vous sont ouverts."
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=INVITATION_VALID_DAYS),
        **_scope_fields(role, scope),
    )
    inviter = by.get_full_name() or by.email or by.get_username()
    body = render_to_string(
        "organisation/email/invitation.txt",
        {
            "invitation": invitation,
            "inviter": inviter,
            "url": accept_url(token),
            "days": INVITATION_VALID_DAYS,
        },
    )
    send_mail(
        subject="Invitation au Cartable connecté",
        message=body,
        from_email=None,
        recipient_list=[email],
    )
    return invitation


class InvitationState:
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


def invitation_find(token: str) -> tuple[Invitation | None, str]:
    """The invitation of a link's token, and whether it can still be used."""
    if not token or len(token) > 100:
        return None, InvitationState.UNKNOWN
    invitation = (
        Invitation.objects.select_related(
            "academy", "department", "school", "school_class__school", "loan__kit"
        )
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None:
        return None, InvitationState.UNKNOWN
    if invitation.accepted_at is not None:
        return invitation, InvitationState.USED
    if invitation.expires_at <= timezone.now():
        return invitation, InvitationState.EXPIRED
    return invitation, InvitationState.VALID


def account_exists(email: str) -> bool:
    """Whether an active account signs in with ``email`` (case-insensitive)."""
    users = get_user_model().objects
    return users.filter(email__iexact=email.strip(), is_active=True).exists()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user=None, password: str | None = None):
    """Use the invitation once: give its role to ``user`` (signed in with the invited
    address), or create the account (username = email) with ``password``. Returns the user.
    """
    now = timezone.now()
    # The conditional update is the single use: of two clicks racing, one wins.
    won = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now)
    if not won:
        raise InvitationRefused("Ce lien d'invitation a déjà servi ou a expiré.")
    if user is None:
        if account_exists(invitation.email):
            raise InvitationRefused(
                "Un compte existe déjà avec cette adresse : connectez-vous, puis ouvrez de "
                "nouveau le lien de l'invitation."
            )
        user = get_user_model().objects.create_user(
            username=invitation.email, email=invitation.email, password=password
        )
    elif user.email.strip().lower() != invitation.email:
        raise InvitationRefused("Cette invitation est adressée à une autre adresse électronique.")
    RoleGrant.objects.get_or_create(
        user=user,
        role=invitation.role,
        **_scope_fields(invitation.role, invitation.scope),
    )
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_by"])
    return user
