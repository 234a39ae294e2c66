"""Reads for the home pages: lists within a person's scope, and counts without names.

Counts are what leaves the school level: the académie and the ministry get numbers of
schools, classes and loans, never a row that names a pupil.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from .access import Action, Actor, academies_for, classes_for, loans_for, schools_for
from .models import Academy, School, SchoolClass


@dataclass(frozen=True)
class Figures:
    schools_with_loans: int
    classes_with_loans: int
    active_loans: int


def _active_loans(loans):
    return loans.active(timezone.localdate())


def figures(loans) -> Figures:
    """Counts over ``loans`` (a queryset already scoped by the access layer)."""
    active = _active_loans(loans)
    totals = active.aggregate(
        loans=Count("pk"),
        classes=Count("school_class", distinct=True),
        schools=Count("school_class__school", distinct=True),
    )
    return Figures(
        schools_with_loans=totals["schools"],
        classes_with_loans=totals["classes"],
        active_loans=totals["loans"],
    )


def academy_figures(academy: Academy) -> Figures:
    from cartable.fleet.models import Loan

    return figures(Loan.objects.filter(school_class__school__department__academy=academy))


@dataclass(frozen=True)
class AcademyRow:
    academy: Academy
    schools: int  # schools in the directory
    figures: Figures


def national_figures(actor: Actor) -> list[AcademyRow]:
    """One row per académie the actor may count (all of them for the ministry), in two
    queries whatever the number of académies."""
    from cartable.fleet.models import Loan

    academies = list(
        academies_for(actor, Action.FIGURES_VIEW).annotate(
            school_count=Count("departments__schools", distinct=True)
        )
    )
    today = timezone.localdate()
    counts = {
        row["school_class__school__department__academy"]: row
        for row in Loan.objects.active(today)
        .filter(school_class__school__department__academy__in=[a.pk for a in academies])
        .values("school_class__school__department__academy")
        .annotate(
            loans=Count("pk"),
            classes=Count("school_class", distinct=True),
            schools=Count("school_class__school", distinct=True),
        )
    }
    rows = []
    for academy in academies:
        row = counts.get(academy.pk, {})
        rows.append(
            AcademyRow(
                academy=academy,
                schools=academy.school_count,
                figures=Figures(
                    schools_with_loans=row.get("schools", 0),
                    classes_with_loans=row.get("classes", 0),
                    active_loans=row.get("loans", 0),
                ),
            )
        )
    return rows


def academy_overview(academy: Academy) -> dict:
    """What a DANE sees of their académie: per département, counts only."""
    from cartable.fleet.models import Loan

    today = timezone.localdate()
    departments = list(
        academy.departments.annotate(school_count=Count("schools", distinct=True)).order_by("code")
    )
    per_department = {
        row["school_class__school__department"]: row
        for row in Loan.objects.active(today)
        .filter(school_class__school__department__academy=academy)
        .values("school_class__school__department")
        .annotate(
            loans=Count("pk"),
            classes=Count("school_class", distinct=True),
            schools=Count("school_class__school", distinct=True),
        )
    }
    rows = []
    for department in departments:
        row = per_department.get(department.pk, {})
        rows.append(
            {
                "department": department,
                "schools": department.school_count,
                "schools_with_loans": row.get("schools", 0),
                "classes_with_loans": row.get("classes", 0),
                "active_loans": row.get("loans", 0),
            }
        )
    return {
        "academy": academy,
        "figures": academy_figures(academy),
        "schools": School.objects.filter(department__academy=academy).count(),
        "classes": SchoolClass.objects.filter(school__department__academy=academy).count(),
        "departments": rows,
    }


def department_overview(actor: Actor, department) -> dict:
    """What a coordinator sees of their département: its loans with pupils' names, its
    classes and their pupils, its schools that have classes here."""
    scope = Q(school_class__school__department=department)
    loans = (
        _active_loans(loans_for(actor, Action.VIEW).filter(scope))
        .select_related("pupil", "school_class__school", "kit")
        .order_by("school_class__school__name", "school_class__name")
    )
    # Past their planned end and never ended: they fall out of the running loans above,
    # and would otherwise be forgotten with the kit out and the pupil's tablet paired.
    overdue = (
        loans_for(actor, Action.VIEW)
        .filter(scope)
        .overdue(timezone.localdate())
        .select_related("pupil", "school_class__school", "kit")
        .order_by("ends_on", "pk")
    )
    classes = (
        classes_for(actor, Action.PUPIL_MANAGE)
        .filter(school__department=department)
        .select_related("school")
        .prefetch_related("pupils")
        .order_by("school__name", "school_year", "name")
    )
    return {
        "department": department,
        "loans": list(loans),
        "overdue": list(overdue),
        "classes": list(classes),
        "schools_count": schools_for(actor, Action.CLASS_MANAGE)
        .filter(department=department)
        .count(),
        "schools_with_classes": School.objects.filter(department=department, classes__isnull=False)
        .distinct()
        .count(),
        "figures": figures(
            loans_for(actor, Action.VIEW).filter(scope),
        ),
    }


def school_overview(actor: Actor, school: School) -> dict:
    """What a school head sees: their school's classes, with their loans."""
    classes = (
        classes_for(actor, Action.VIEW)
        .filter(school=school)
        .annotate(pupil_count=Count("pupils", distinct=True))
        .order_by("school_year", "name")
    )
    loans = (
        _active_loans(loans_for(actor, Action.VIEW).filter(school_class__school=school))
        .select_related("pupil", "school_class", "kit")
        .order_by("school_class__name")
    )
    return {"school": school, "classes": list(classes), "loans": list(loans)}


def kit_tracking(actor: Actor):
    """Active loans for the fleet team: kit, school, class, place, dates; no pupil."""
    return (
        _active_loans(loans_for(actor, Action.KIT_TRACK))
        .select_related("kit", "school_class__school__department")
        .order_by("ends_on", "kit__code")
    )
