"""Fixtures for the survey tests: the people asked about a loan, with email addresses."""

from __future__ import annotations

import re

import pytest

from cartable.organisation.models import RoleGrant

from ..conftest import make_person


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def people_of(loan, prefix: str = "") -> dict:
    """A teacher of the loan's class, two family members, a hospital staff member."""
    return {
        "teacher": make_person(
            f"{prefix}enseignante",
            {"role": RoleGrant.Role.TEACHER, "school_class": loan.school_class},
        ),
        "family": make_person(f"{prefix}parent1", {"role": RoleGrant.Role.FAMILY, "loan": loan}),
        "family2": make_person(f"{prefix}parent2", {"role": RoleGrant.Role.FAMILY, "loan": loan}),
        "hospital": make_person(
            f"{prefix}infirmier", {"role": RoleGrant.Role.HOSPITAL_STAFF, "loan": loan}
        ),
    }


LINK = re.compile(r"https?://\S+/questionnaire/([A-Za-z0-9_-]+)/")


def token_in(message) -> str:
    """The one-time token of a survey email (it exists nowhere else)."""
    return LINK.search(message.body).group(1)
