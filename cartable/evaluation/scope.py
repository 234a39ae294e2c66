"""What an evaluation is about: a period (a school year by default) and a scope (the
country, an académie or a département), and who may ask for which.

Every indicator, chart, download and API answer of the evaluation takes a ``Period`` and a
``Scope`` from here. A scope is allowed through the access layer (``FIGURES_VIEW``): the
ministry everywhere, a DANE its académie(s) and their départements, a coordinator their
département(s). Outside one's rights, ``resolve`` raises ``Http404``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from cartable.core.scope import ScopeCodes, choices, place_for
from cartable.organisation.access import Action, Actor
from cartable.organisation.models import Academy, Department

NATIONAL, ACADEMY, DEPARTMENT = "national", "academy", "department"
# Under this many, a count is shown as « < 5 » at any level above a single school.
SMALL_COUNT = 5


@dataclass(frozen=True)
class Period:
    start: date  # first day, included
    end: date  # last day, included

    @property
    def label(self) -> str:
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (9, 1, 8, 31):
            return f"année scolaire {self.start.year}-{self.end.year}"
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    @property
    def slug(self) -> str:
        return f"{self.start:%Y-%m-%d}_{self.end:%Y-%m-%d}"


def school_year(start_year: int) -> Period:
    """The school year that starts in September of ``start_year`` (1 Sept. – 31 Aug.)."""
    return Period(date(start_year, 9, 1), date(start_year + 1, 8, 31))


def current_school_year(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return school_year(today.year if today.month >= 9 else today.year - 1)


def parse_period(value: str | None, today: date | None = None) -> Period:
    """``"2025-2026"`` → that school year; empty → the current one. ValueError otherwise
    (the French message is the exception's text)."""
    if not value:
        return current_school_year(today)
    parts = value.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) == 4 for p in parts):
        raise ValueError("Année scolaire attendue sous la forme 2025-2026.")
    first, second = (int(p) for p in parts)
    if second != first + 1 or not 2000 <= first <= 2100:
        raise ValueError("Année scolaire attendue sous la forme 2025-2026.")
    return school_year(first)


@dataclass(frozen=True)
class Scope:
    level: str  # NATIONAL, ACADEMY or DEPARTMENT
    academy: Academy | None = None
    department: Department | None = None

    @property
    def label(self) -> str:
        if self.level == DEPARTMENT:
            return f"département {self.department}"
        if self.level == ACADEMY:
            return f"académie de {self.academy}"
        return "France entière"

    @property
    def slug(self) -> str:
        if self.level == DEPARTMENT:
            return f"departement-{self.department.code}"
        if self.level == ACADEMY:
            return f"academie-{self.academy.code}"
        return "national"

    @property
    def suppresses_small_counts(self) -> bool:
        """Every scope here lies above a single school: small counts are hidden."""
        return True

    def schools_q(self, prefix: str = "") -> Q:
        """The filter that keeps what lies in the scope, for a model reached from a School
        by ``prefix`` (e.g. ``"school_class__school__"`` for a Loan)."""
        if self.level == DEPARTMENT:
            return Q(**{f"{prefix}department": self.department})
        if self.level == ACADEMY:
            return Q(**{f"{prefix}department__academy": self.academy})
        return Q()


def resolve(actor: Actor, academy_code: str | None, department_code: str | None) -> Scope:
    """The scope asked for (by académie and/or département code, checked by
    ``cartable.core.scope.scope_codes``), if ``actor`` may see it; the widest one they may
    see when nothing is asked. Http404 otherwise."""
    codes = ScopeCodes(academy=academy_code or None, department=department_code or None)
    place = place_for(actor, Action.FIGURES_VIEW, codes)
    if place is None:
        raise Http404
    if place.department is not None:
        return Scope(DEPARTMENT, academy=place.academy, department=place.department)
    if place.academy is not None:
        return Scope(ACADEMY, academy=place.academy)
    return Scope(NATIONAL)


def choices_for(actor: Actor) -> dict:
    """What the scope selector offers ``actor``: national or not, académies, départements."""
    return choices(actor, Action.FIGURES_VIEW)


def small(value: int | None, scope: Scope) -> int | str | None:
    """A count as it may be shown for ``scope``: « < 5 » for 1 to 4 above a single school."""
    if value is None or not scope.suppresses_small_counts:
        return value
    if isinstance(value, int) and 0 < value < SMALL_COUNT:
        return "< 5"
    return value
