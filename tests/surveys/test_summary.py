"""``reports.summary`` against values computed by hand on a small fixed set, and the
synthetic answers for the generated school year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cartable.evaluation.scope import ACADEMY, DEPARTMENT, NATIONAL, Scope, school_year
from cartable.fleet.models import Loan
from cartable.organisation.models import Academy, Department, School
from cartable.organisation.services import academies_load
from cartable.surveys.models import SurveyAnswer, SurveyResponse
from cartable.surveys.reports import summary
from cartable.surveys.synthetic import add_answers

Y = school_year(2026)


def respond(department, kind, values, *, day=date(2026, 12, 1), round_="end", texts=None):
    response = SurveyResponse.objects.create(
        respondent_kind=kind,
        round=round_,
        school_year="2026-2027",
        academy=department.academy,
        department=department,
        level_group="college",
        place_kind="hospital",
        submitted_on=day,
    )
    texts = texts or {}
    for question, value in zip(
        ("quality", "interest", "vigilance", "difficulties", "needs"), values, strict=True
    ):
        text, review = texts.get(question, ("", ""))
        SurveyAnswer.objects.create(
            response=response, question=question, value=value, text=text, review=review
        )
    return response


@pytest.fixture
def fixed_set(db):
    academies_load()
    yvelines, essonne, alpes = (Department.objects.get(code=c) for c in ("78", "91", "06"))
    # Yvelines: two teachers, one pupil (one midway), a text of each review state.
    respond(
        yvelines,
        "teacher",
        (4, 4, 1, 2, 3),
        texts={
            "needs": ("Travaux pratiques en lycée agricole.", "approved"),
            "vigilance": ("Pas encore relu.", "pending"),
        },
    )
    respond(yvelines, "teacher", (3, 4, 1, 1, 1), texts={"difficulties": ("", "rejected")})
    respond(yvelines, "pupil", (3, 3, 2, 1, 3), round_="midway")
    # Essonne (same académie): a family.
    respond(essonne, "family", (2, 3, 2, 2, 1), texts={"quality": ("Très bien.", "approved")})
    # Alpes-Maritimes (académie de Nice): a hospital staff member.
    respond(alpes, "hospital_staff", (4, 4, 4, 4, 4))
    # Outside the school year: not counted anywhere.
    respond(yvelines, "teacher", (1, 1, 1, 1, 1), day=date(2026, 8, 31))
    respond(yvelines, "teacher", (1, 1, 1, 1, 1), day=date(2027, 9, 1))
    return yvelines, essonne, alpes


def test_a_department(fixed_set):
    yvelines = fixed_set[0]
    got = summary(Y, Scope(DEPARTMENT, academy=yvelines.academy, department=yvelines))
    assert got["responses"] == 3
    assert got["by_kind"] == {"teacher": 2, "family": 0, "pupil": 1, "hospital_staff": 0}
    assert got["by_round"] == {"midway": 1, "end": 2}
    assert got["answers"]["quality"]["teacher"] == {1: 0, 2: 0, 3: 1, 4: 1}
    assert got["answers"]["interest"]["teacher"] == {1: 0, 2: 0, 3: 0, 4: 2}
    assert got["answers"]["vigilance"]["teacher"] == {1: 2, 2: 0, 3: 0, 4: 0}
    assert got["answers"]["needs"]["teacher"] == {1: 1, 2: 0, 3: 1, 4: 0}
    assert got["answers"]["quality"]["pupil"] == {1: 0, 2: 0, 3: 1}
    assert got["answers"]["vigilance"]["pupil"] == {1: 0, 2: 1, 3: 0}
    assert got["answers"]["quality"]["family"] == {1: 0, 2: 0, 3: 0, 4: 0}
    assert got["free_texts"] == [
        {
            "question": "needs",
            "question_label": "Besoins nouveaux",
            "respondent_kind": "teacher",
            "respondent_label": "Enseignant·e",
            "text": "Travaux pratiques en lycée agricole.",
        }
    ]
    assert got["scales"]["pupil"]["quality"] == [(1, "Pas content"), (2, "Moyen"), (3, "Content")]
    assert got["scales"]["teacher"]["quality"][0] == (1, "Insuffisante")


def test_an_academy_and_the_country(fixed_set):
    versailles = Academy.objects.get(code="25")
    got = summary(Y, Scope(ACADEMY, academy=versailles))
    assert got["responses"] == 4
    assert got["by_kind"] == {"teacher": 2, "family": 1, "pupil": 1, "hospital_staff": 0}
    assert got["answers"]["quality"]["family"] == {1: 0, 2: 1, 3: 0, 4: 0}
    assert [t["text"] for t in got["free_texts"]] == [
        "Très bien.",
        "Travaux pratiques en lycée agricole.",
    ]

    nice = summary(Y, Scope(ACADEMY, academy=Academy.objects.get(code="23")))
    assert nice["responses"] == 1
    assert nice["answers"]["difficulties"]["hospital_staff"] == {1: 0, 2: 0, 3: 0, 4: 1}
    assert nice["free_texts"] == []

    country = summary(Y, Scope(NATIONAL))
    assert country["responses"] == 5
    assert sum(country["answers"]["interest"]["teacher"].values()) == 2
    assert country["by_round"] == {"midway": 1, "end": 4}


def test_a_period_without_answers(fixed_set):
    got = summary(school_year(2030), Scope(NATIONAL))
    assert got["responses"] == 0
    assert got["free_texts"] == []
    assert all(
        count == 0
        for per_kind in got["answers"].values()
        for per_value in per_kind.values()
        for count in per_value.values()
    )


def test_synthetic_answers_are_realistic_anonymous_and_reproducible(make_loan, department):
    loans = []
    for n in range(30):
        loan = make_loan(starts_in_days=-120 + n, ends_in_days=-10 + n)
        loans.append(loan)
    Loan.objects.filter(pk__in=[loan.pk for loan in loans[:20]]).update(
        status=Loan.Status.ENDED, ended_at=timezone.now() - timedelta(days=5)
    )
    ids = [loan.pk for loan in loans]
    School.objects.filter(classes__loans__in=ids).update(department=department)

    def snapshot():
        return sorted(
            SurveyAnswer.objects.values_list(
                "response__respondent_kind", "response__round", "question", "value", "text"
            )
        )

    created = add_answers(ids, seed=7)
    assert created == SurveyResponse.objects.count() > 20
    assert SurveyAnswer.objects.count() == 5 * created
    first = snapshot()
    kinds = set(SurveyResponse.objects.values_list("respondent_kind", flat=True))
    assert {"teacher", "family", "pupil"} <= kinds
    assert set(SurveyResponse.objects.values_list("round", flat=True)) == {"midway", "end"}
    pupil_values = SurveyAnswer.objects.filter(response__respondent_kind="pupil")
    assert set(pupil_values.values_list("value", flat=True)) <= {1, 2, 3}
    assert not pupil_values.exclude(text="").exists()
    assert not SurveyAnswer.objects.filter(review="rejected").exclude(text="").exists()
    assert SurveyResponse.objects.filter(submitted_on__gt=timezone.localdate()).count() == 0
    where = set(SurveyResponse.objects.values_list("department__code", "academy__code"))
    assert where == {("78", "25")}
    assert set(SurveyResponse.objects.values_list("level_group", flat=True)) == {"elementaire"}

    SurveyResponse.objects.all().delete()
    assert add_answers(ids, seed=7) == created
    assert snapshot() == first
    SurveyResponse.objects.all().delete()
    assert add_answers(ids, seed=8) != created or snapshot() != first


def test_level_groups_are_the_indicators_ones():
    from cartable.evaluation.indicators import LEVEL_GROUPS
    from cartable.organisation.models import SchoolClass
    from cartable.surveys.models import LevelGroup, level_group

    assert set(LEVEL_GROUPS) == set(LevelGroup.values)
    for level in SchoolClass.Level.values:
        group = next(name for name, levels in LEVEL_GROUPS.items() if level in levels)
        assert level_group(level) == group
