"""Demo data: one school, class, pupil, kit, loan and teacher. Idempotent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cartable.consent.services import authorise_all, missing_records
from cartable.fleet.models import Kit, Loan
from cartable.live.services import pairing_code_create
from cartable.organisation.models import Department, Pupil, RoleGrant, School, SchoolClass

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
    # A fresh password at every run: the demo never ships a known password.
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    teacher.set_password(password)
    teacher.email = DEMO_TEACHER_EMAIL  # also for a demo set up before sign-in by email
    teacher.save(update_fields=["password", "email"])
    RoleGrant.objects.get_or_create(
        user=teacher, role=RoleGrant.Role.TEACHER, school_class=school_class
    )
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
    )
