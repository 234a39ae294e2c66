"""Demo data: one school, class, pupil, kit, loan and teacher. Idempotent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cartable.consent.services import authorise_all, missing_records
from cartable.fleet import services as fleet
from cartable.fleet.models import Device, Kit, Loan
from cartable.live.services import pairing_code_create
from cartable.organisation.models import (
    Academy,
    Department,
    Pupil,
    Role,
    RoleGrant,
    School,
    SchoolClass,
)

DEMO_UAI = "0783774D"  # a valid UAI (check letter D), used only for the demo school
DEMO_TEACHER = "enseignant.demo"
DEMO_TEACHER_EMAIL = "enseignant.demo@example.org"  # what the teacher signs in with


def school_year(today) -> str:
    start = today.year if today.month >= 9 else today.year - 1
    return f"{start}-{start + 1}"


@dataclass
class Demo:
    loan: Loan
    teacher_username: str
    teacher_email: str
    teacher_password: str
    pairing_code: str
    # The other people of the demo: role label -> (email, password). Those marked in
    # ``SECOND_FACTOR`` enrol an authenticator app at their first sign-in.
    people: dict[str, tuple[str, str]]


# The demo's other accounts: (username, email, first name, last name, role, scope).
PEOPLE = [
    ("coordination.demo", "coordination.demo@example.org", "Nadia", "Benali", Role.DEPARTMENT),
    ("dane.demo", "dane.demo@example.org", "Hugo", "Lefèvre", Role.ACADEMY),
    ("ministere.demo", "ministere.demo@example.org", "Claire", "Dubois", Role.NATIONAL),
    ("parc.demo", "parc.demo@example.org", "Malik", "Roux", Role.FLEET),
    ("dpd.demo", "dpd.demo@example.org", "Anne", "Moreau", Role.DPO),
]
SECOND_FACTOR = {Role.FLEET, Role.DPO}


def _password() -> str:
    # A fresh password at every run: the demo never ships a known password.
    return "-".join(secrets.token_hex(3) for _ in range(3))


def _person(username, email, first_name, last_name, role, scope: dict) -> tuple[str, str]:
    users = get_user_model()
    user, _ = users.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name}
    )
    password = _password()
    user.set_password(password)
    user.email = email
    user.save(update_fields=["password", "email"])
    RoleGrant.objects.get_or_create(user=user, role=role, **scope)
    return email, password


def _fleet(school_class, coordinator) -> None:
    """A few kits and devices in the register, and a request waiting for a kit."""
    for code, generation in (("DEMO-002", Kit.Generation.G3), ("DEMO-003", Kit.Generation.V5)):
        if not Kit.objects.filter(code=code).exists():
            fleet.kit_create(code=code, generation=generation)
    kit = Kit.objects.get(code="DEMO-001")
    for kind, serial in (
        (Device.Kind.CLASS_BOX, "DEMO-BOX-001"),
        (Device.Kind.BOARD_CAMERA, "DEMO-CAM-TAB-001"),
        (Device.Kind.CLASS_CAMERA, "DEMO-CAM-CLA-001"),
        (Device.Kind.TEACHER_TABLET, "DEMO-TAB-ENS-001"),
        (Device.Kind.PUPIL_TABLET, "DEMO-TAB-ELV-001"),
    ):
        if not Device.objects.filter(serial=serial).exists():
            fleet.device_create(kind=kind, serial=serial, software_version="5.2.0", kit=kit)
    pupil, _ = Pupil.objects.get_or_create(display_name="Noah", school_class=school_class)
    if not Loan.objects.filter(pupil=pupil).exists():
        today = timezone.localdate()
        fleet.loan_request(
            pupil=pupil,
            starts_on=today + timedelta(days=3),
            ends_on=today + timedelta(days=60),
            place_kind=Loan.PlaceKind.HOME,
            pupil_department=school_class.school.department,
            by=coordinator,
        )


@transaction.atomic
def demo_setup() -> Demo:
    today = timezone.localdate()
    school, _ = School.objects.get_or_create(
        uai=DEMO_UAI,
        defaults={
            "name": "Collège de démonstration",
            "kind": School.Kind.COLLEGE,
            "commune": "Mantes-la-Jolie",
            "postcode": "78200",
            # The académies and départements are loaded by a migration.
            "department": Department.objects.filter(code="78").first(),
        },
    )
    school_class, _ = SchoolClass.objects.get_or_create(
        school=school,
        school_year=school_year(today),
        name="5e B",
        defaults={"level": SchoolClass.Level.CINQUIEME},
    )
    pupil, _ = Pupil.objects.get_or_create(display_name="Léa", school_class=school_class)
    kit, _ = Kit.objects.get_or_create(code="DEMO-001", defaults={"generation": Kit.Generation.G3})
    loan = Loan.objects.active(today).filter(kit=kit, pupil=pupil).first()
    if loan is None:
        # A demo run months later: the old demo loan is closed and the kit lent again.
        Loan.objects.holding_kit().filter(kit=kit).update(
            status=Loan.Status.RETURNED, ended_at=timezone.now(), returned_at=timezone.now()
        )
        now = timezone.now()
        loan = Loan.objects.create(
            kit=kit,
            pupil=pupil,
            school_class=school_class,
            starts_on=today - timedelta(days=7),
            ends_on=today + timedelta(days=90),
            place_kind=Loan.PlaceKind.HOSPITAL,
            pupil_department=school.department,
            status=Loan.Status.ACTIVE,
            created_at=now - timedelta(days=10),
            assigned_at=now - timedelta(days=9),
            shipped_at=now - timedelta(days=8),
            class_installed_at=now - timedelta(days=7),
            pupil_installed_at=now - timedelta(days=7),
        )
        Kit.objects.filter(pk=kit.pk).update(status=Kit.Status.ON_LOAN, status_changed_at=now)
    users = get_user_model()
    teacher, _ = users.objects.get_or_create(
        username=DEMO_TEACHER,
        defaults={"first_name": "Camille", "last_name": "Martin", "email": DEMO_TEACHER_EMAIL},
    )
    password = _password()
    teacher.set_password(password)
    teacher.email = DEMO_TEACHER_EMAIL  # also for a demo set up before sign-in by email
    teacher.save(update_fields=["password", "email"])
    RoleGrant.objects.get_or_create(
        user=teacher, role=RoleGrant.Role.TEACHER, school_class=school_class
    )
    scopes = {
        Role.DEPARTMENT: {"department": school.department},
        Role.ACADEMY: {"academy": Academy.objects.filter(code="25").first()},
    }
    people = {}
    for username, email, first, last, role in PEOPLE:
        scope = scopes.get(role, {})
        if any(value is None for value in scope.values()):
            continue  # the administrative map is not loaded (it is, by a migration)
        people[Role(role).label] = _person(username, email, first, last, role, scope)
    _fleet(school_class, users.objects.get(username="coordination.demo"))
    if missing_records(loan):
        # The demo loan's papers are in order: its lessons may start (cartable/consent).
        authorise_all(loan=loan)
    issued = pairing_code_create(loan=loan, by=teacher)
    return Demo(
        loan=loan,
        teacher_username=DEMO_TEACHER,
        teacher_email=DEMO_TEACHER_EMAIL,
        teacher_password=password,
        pairing_code=issued.code,
        people=people,
    )
