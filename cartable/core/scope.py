"""The place a report is about (the country, an académie or a département), read from the
GET parameters ``academie`` and ``departement`` and checked against a person's rights.

One resolver for every page, download and API answer that takes a scope: the fleet's
overview and registers (``Action.KIT_TRACK``, ``cartable.fleet.reports``) and the evaluation's
report, files and indicators (``Action.FIGURES_VIEW``, ``cartable.evaluation.scope``). Each
app builds its own ``Scope`` from the place found here.

- ``scope_codes(params)`` reads and checks the codes: an académie code is two digits (``25``;
  ``4`` is read ``04``), a département code an INSEE code (``78``, ``078``, ``2A``, ``974``).
  Anything else (a NUL byte, letters, a long string) raises ``ScopeRefused``, a 400 with its
  French message (``core.views.bad_request``), a 422 in the API; nothing reaches the database.
- ``place_for(actor, action, codes)`` finds the place, if ``actor`` may do ``action`` there;
  without codes the widest one they may (the country, else their first académie, else their
  first département). None when they may not: the callers answer 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cartable.core.errors import Refused
from cartable.organisation.access import Action, Actor, academies_for, can, departments_for
from cartable.organisation.models import Academy, Department

ACADEMY_PARAM, DEPARTMENT_PARAM = "academie", "departement"
_ACADEMY_CODE = re.compile(r"[0-9]{1,2}")
_DEPARTMENT_CODE = re.compile(r"0?(?:[0-9]{1,3}|2[AB])")
BAD_ACADEMY = "Code d'académie invalide : deux chiffres attendus (25 pour Versailles)."
BAD_DEPARTMENT = "Code de département invalide : code INSEE attendu (78, 2A, 974…)."


class ScopeRefused(Refused):
    """A scope parameter that cannot be a code: answered 400 (422 in the API)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ScopeCodes:
    academy: str | None = None
    department: str | None = None


def scope_codes(params) -> ScopeCodes:
    """The codes named by ``params`` (a QueryDict or a dict), checked and normalised.
    Raises ``ScopeRefused`` for a value that cannot be a code."""
    from cartable.organisation.services import normalise_academy_code, normalise_department_code

    academy = str(params.get(ACADEMY_PARAM, "") or "").strip()
    department = str(params.get(DEPARTMENT_PARAM, "") or "").strip().upper()
    if academy and not _ACADEMY_CODE.fullmatch(academy):
        raise ScopeRefused(ACADEMY_PARAM, BAD_ACADEMY)
    if department and not _DEPARTMENT_CODE.fullmatch(department):
        raise ScopeRefused(DEPARTMENT_PARAM, BAD_DEPARTMENT)
    return ScopeCodes(
        academy=normalise_academy_code(academy) or None,
        department=normalise_department_code(department) or None,
    )


@dataclass(frozen=True)
class Place:
    """The country (neither), an académie, or a département (with its académie)."""

    academy: Academy | None = None
    department: Department | None = None


def place_for(actor: Actor, action: Action, codes: ScopeCodes) -> Place | None:
    """The place ``codes`` name, if ``actor`` may do ``action`` over it; without codes the
    widest place they may. None otherwise."""
    departments = departments_for(actor, action).select_related("academy")
    if codes.department:
        department = departments.filter(code=codes.department).first()
        return Place(department.academy, department) if department else None
    if codes.academy:
        academy = academies_for(actor, action).filter(code=codes.academy).first()
        return Place(academy) if academy else None
    if can(actor, action):
        return Place()
    academy = academies_for(actor, action).order_by("name").first()
    if academy is not None:
        return Place(academy)
    department = departments.order_by("code").first()
    return Place(department.academy, department) if department else None


def choices(actor: Actor, action: Action) -> dict:
    """What a scope selector offers ``actor``: the country or not, académies, départements."""
    national = can(actor, action)
    academies = list(academies_for(actor, action).order_by("name"))
    departments = list(departments_for(actor, action).select_related("academy").order_by("code"))
    return {
        "national": national,
        "academies": academies,
        "departments": departments,
        "several": national or len(academies) + len(departments) > 1,
    }
