"""Each indicator against the values computed by hand on ``review_data`` (see conftest.py
for the data set; the arithmetic is spelled out next to each expectation)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Q

from cartable.evaluation import indicators as ind
from cartable.evaluation.indicators import LEVEL_GROUPS, compute, displayed
from cartable.evaluation.scope import ACADEMY, DEPARTMENT, NATIONAL, Period, Scope, school_year
from cartable.fleet import reports
from cartable.fleet.models import Kit, Loan
from cartable.organisation.models import SchoolClass

# Lessons of 2025-2026 (all scopes): minutes of each lesson and of the pupil's presence.
LESSON_MINUTES = [50, 60, 40, 45, 30, 55, 60, 20]
PUPIL_MINUTES = [45, 30, 40, 45, 30, 20 + 30, 50, 20]  # = 310
# Loans lent in 2025-2026 and their days lent within it (both ends counted):
# L1 8 Sept.–5 Oct. 2025 (28), L7 12 Jan.–8 Feb. (28), L2 3–31 Aug. 2026 (29),
# L3 22 Sept.–19 Oct. (ended early, 28), L4 2–29 March (28) = 141 days.
LOAN_DAYS = 28 + 28 + 29 + 28 + 28
# From the request (10:00) to the first lesson, in days: L1 7, L7 9 d 23 h, L2 15,
# L3 14 d 3 h, L4 14 d 23 h.
DELAYS = [7, 9 + 23 / 24, 15, 14 + 3 / 24, 14 + 23 / 24]


def national() -> Scope:
    return Scope(NATIONAL)


@pytest.fixture
def year(review_data) -> Period:
    return review_data.period


def test_every_level_is_in_exactly_one_group():
    grouped = [level for levels in LEVEL_GROUPS.values() for level in levels]
    assert sorted(grouped) == sorted(SchoolClass.Level.values)
    assert len(grouped) == len(set(grouped))
    assert set(LEVEL_GROUPS) == set(ind.LEVEL_GROUP_LABELS)


def test_kits_nationally_are_every_kit_now(review_data, year):
    result = compute(year, national())
    assert result.kits_total == 7
    assert result.kits_by_generation == {"G3": 6, "V5": 1}
    assert result.kits_by_status["in_stock"] == {"G3": 3, "V5": 0}  # K1, K4, K6
    assert result.kits_by_status["on_loan"] == {"G3": 1, "V5": 0}  # K2
    assert result.kits_by_status["returning"] == {"G3": 0, "V5": 1}  # K3
    assert result.kits_by_status["reserved"] == {"G3": 1, "V5": 0}  # K5
    assert result.kits_by_status["retired"] == {"G3": 1, "V5": 0}  # K7
    assert set(result.kits_by_status) == set(Kit.Status.values)


def test_kits_of_an_academy_are_those_its_loans_hold(review_data, year):
    versailles = compute(year, Scope(ACADEMY, academy=review_data.versailles))
    # L2 (K2, active, 91) and L5 (K5, assigned, 78); L1, L7, L4 gave theirs back.
    assert versailles.kits_total == 2
    assert versailles.kits_by_status["on_loan"]["G3"] == 1
    assert versailles.kits_by_status["reserved"]["G3"] == 1
    nice = compute(year, Scope(ACADEMY, academy=review_data.nice))
    assert nice.kits_total == 1  # K3, coming back from L3
    assert nice.kits_by_status["returning"] == {"G3": 0, "V5": 1}


def test_loans_asked_started_active_ended(review_data, year):
    result = compute(year, national())
    # Asked: L1, L7, L2, L3, L4, L5, L6 (cancelled), L8 (requested); not L0 (2024).
    assert result.loans_requested == 8
    # Started (first lesson or activation in the year): L1, L7, L2, L3, L4.
    assert result.loans_started == 5
    # Lent at some point: L1, L7, L2, L3, L4 (not L5: assigned, not shipped).
    assert result.loans_active == 5
    # Ended: L1, L7, L3, L4 (L2 still running).
    assert result.loans_ended == 4


def test_loans_of_the_previous_year(review_data):
    result = compute(school_year(2024), national())
    assert (result.loans_requested, result.loans_started, result.loans_active) == (1, 1, 1)
    assert result.loans_ended == 1
    assert result.lessons == 1
    assert result.pupils_served == 1
    assert result.pupils_by_level_group["elementaire"] == 1


def test_started_counts_the_first_lesson_when_it_comes_before_installation(review_data):
    # L2 was activated on 3 Aug. 2026 (14:00); a lesson on 31 July (before installation is
    # confirmed) makes it start in July.
    from tests.evaluation.conftest import _lesson, at

    july = Period(date(2026, 7, 1), date(2026, 7, 31))
    august = Period(date(2026, 8, 1), date(2026, 8, 31))
    assert compute(july, national()).loans_started == 0
    assert compute(august, national()).loans_started == 1
    _lesson(review_data.loans["L2"], at(2026, 7, 31, 10), 30)
    assert compute(july, national()).loans_started == 1
    assert compute(august, national()).loans_started == 0


def test_pupils_served_by_level_group_and_place(review_data, year):
    result = compute(year, national())
    # P1 (CM1, two loans, counted once), P2 (4e), P3 (CAP1), P4 (1re agri).
    assert result.pupils_served == 4
    assert result.pupils_by_level_group == {
        "maternelle": 0,
        "elementaire": 1,
        "college": 1,
        "lycee_gt": 0,
        "lycee_pro": 1,
        "agricole": 1,
    }
    assert result.pupils_by_place == {"home": 2, "hospital": 1, "hospital_school": 1}
    assert set(result.pupils_by_place) == set(Loan.PlaceKind.values)


def test_live_hours_and_lessons_per_loan_week(review_data, year):
    result = compute(year, national())
    assert result.lessons == 8
    assert result.loan_weeks == pytest.approx(LOAN_DAYS / 7)
    assert result.live_hours == pytest.approx(sum(PUPIL_MINUTES) / 60)  # 310 min
    assert result.live_hours_per_loan_week == pytest.approx((310 / 60) / (141 / 7))
    assert result.lessons_per_loan_week == pytest.approx(8 / (141 / 7))


def test_loan_weeks_stop_at_the_end_of_a_shorter_period(review_data):
    # August 2026: only L2, lent from the 3rd to the 31st (29 days), 2 lessons, 30 + 50 min.
    august = compute(Period(date(2026, 8, 1), date(2026, 8, 31)), national())
    assert august.loans_active == 1
    assert august.loan_weeks == pytest.approx(29 / 7)
    assert august.lessons == 2
    assert august.live_hours == pytest.approx(80 / 60)


def test_median_lesson_length(review_data, year):
    result = compute(year, national())
    # 20 30 40 45 | 50 55 60 60 → (45 + 50) / 2.
    assert sorted(LESSON_MINUTES)[3:5] == [45, 50]
    assert result.lessons_ended == 8
    assert result.lesson_median_minutes == pytest.approx(47.5)
    # Nice: one lesson of 60 minutes (an odd count).
    nice = compute(year, Scope(ACADEMY, academy=review_data.nice))
    assert nice.lesson_median_minutes == pytest.approx(60)


def test_time_from_request_to_first_lesson(review_data, year):
    result = compute(year, national())
    assert result.first_lesson_loans == 5
    assert result.request_to_first_lesson_median_days == pytest.approx(14 + 3 / 24)
    assert result.request_to_first_lesson_mean_days == pytest.approx(sum(DELAYS) / 5)


def test_connection_shares_by_the_pupil_side(review_data, year):
    result = compute(year, national())
    # Classified: L1a good, L1b degraded (relayed 10/10), L7 poor (a tie; its class side,
    # all good, is ignored), L2a poor (tie good/poor; relayed 6/10), L2b good, L4 good.
    # Without: L1c (no row), L3 (0 samples).
    assert result.quality_lessons == 6
    assert (result.quality_good, result.quality_degraded, result.quality_poor) == (3, 1, 2)
    assert result.quality_relayed == 2
    assert result.lessons_without_quality == 2
    assert result.share_good == pytest.approx(0.5)
    assert result.share_degraded == pytest.approx(1 / 6)
    assert result.share_poor == pytest.approx(1 / 3)
    assert result.share_relayed == pytest.approx(1 / 3)


def test_devices_offline_on_loan_now(review_data, year):
    result = compute(year, national())
    # K2 (L2, running) has not beaten for 3 days: 1 kit, its 2 devices. K1 beats, not lent.
    assert (result.offline_kits, result.offline_devices) == (1, 2)
    assert result.offline_kits == len(reports.offline_loans(reports.Scope()))
    nice = compute(year, Scope(ACADEMY, academy=review_data.nice))
    assert (nice.offline_kits, nice.offline_devices) == (0, 0)


def test_scopes_academy_and_department(review_data, year):
    versailles = compute(year, Scope(ACADEMY, academy=review_data.versailles))
    # Versailles: L1, L7, L4, L5, L8 (78), L2, L6 (91).
    assert versailles.loans_requested == 7
    assert versailles.loans_active == 4  # L1, L7, L4, L2
    assert versailles.lessons == 7  # all but L3's
    assert versailles.pupils_served == 3
    yvelines = compute(
        year,
        Scope(DEPARTMENT, academy=review_data.versailles, department=review_data.yvelines),
    )
    assert yvelines.loans_requested == 5  # L1, L7, L4, L5, L8
    assert yvelines.loans_active == 3
    assert yvelines.lessons == 5  # L1 ×3, L7, L4
    assert yvelines.loan_weeks == pytest.approx(84 / 7)
    assert yvelines.pupils_by_level_group["agricole"] == 1
    assert yvelines.offline_kits == 0  # K2's loan is in the Essonne
    nice = compute(year, Scope(ACADEMY, academy=review_data.nice))
    assert (nice.loans_requested, nice.loans_active, nice.lessons) == (1, 1, 1)
    assert nice.pupils_by_level_group["lycee_pro"] == 1
    assert nice.quality_lessons == 0
    assert nice.lessons_without_quality == 1
    assert nice.share_good is None


def test_a_period_without_data(review_data):
    result = compute(school_year(2030), national())
    assert not result.has_data
    assert (result.loans_requested, result.loans_active, result.lessons) == (0, 0, 0)
    assert result.pupils_served == 0
    assert result.lesson_median_minutes is None
    assert result.request_to_first_lesson_median_days is None
    assert result.live_hours_per_loan_week is None
    assert result.share_relayed is None
    shown = displayed(result)
    assert shown["message"] == "Aucune donnée pour cette période."
    assert shown["lessons"] == 0
    assert shown["lesson_median_minutes"] is None


def test_displayed_hides_small_counts_and_what_rests_on_them(review_data, year):
    shown = displayed(compute(year, national()))
    assert shown["has_data"] and shown["message"] is None
    assert shown["kits_total"] == 7
    assert shown["loans_requested"] == 8
    assert shown["lessons"] == 8
    assert shown["loans_active"] == 5
    assert shown["loans_ended"] == "< 5"
    assert shown["pupils_served"] == "< 5"
    assert shown["pupils_by_level_group"]["college"] == "< 5"
    assert shown["pupils_by_level_group"]["maternelle"] == 0
    assert shown["kits_by_status"]["in_stock"] == {"G3": "< 5", "V5": 0}
    assert shown["kits_by_generation"] == {"G3": 6, "V5": "< 5"}
    # Five active loans: the averages are shown, rounded.
    assert shown["live_hours"] == 5.2
    assert shown["live_hours_per_loan_week"] == round((310 / 60) / (141 / 7), 2)
    assert shown["lesson_median_minutes"] == 47.5
    assert shown["request_to_first_lesson_median_days"] == 14.1
    # Six classified lessons: shares shown; counts of 1–4 within them hidden.
    assert shown["share_good"] == 0.5
    assert shown["quality_good"] == "< 5"
    assert shown["offline_kits"] == "< 5"


def test_displayed_hides_averages_on_fewer_than_five(review_data, year):
    nice = displayed(compute(year, Scope(ACADEMY, academy=review_data.nice)))
    assert nice["loans_active"] == "< 5"
    assert nice["live_hours"] == "< 5"
    assert nice["live_hours_per_loan_week"] == "< 5"
    assert nice["lesson_median_minutes"] == "< 5"
    assert nice["request_to_first_lesson_mean_days"] == "< 5"
    assert nice["share_good"] is None  # no classified lesson: nothing to compute
    assert nice["quality_lessons"] == 0


def test_csv_rows_follow_the_json(review_data, year):
    doc = ind.document(compute(year, national()))
    rows = ind.csv_rows(doc)
    assert rows[0] == ind.CSV_COLUMNS
    values = {row[6]: row[7] for row in rows[1:]}
    assert values["prets.demandes"] == 8
    assert values["eleves.par_niveau.college"] == "< 5"
    assert values["cartables.par_statut.retired.G3"] == "< 5"
    assert values["connexion.part_bonne"] == 0.5
    assert all(row[:4] == ["2025-2026", "2025-09-01", "2026-08-31", "national"] for row in rows[1:])
    assert len({row[6] for row in rows[1:]}) == len(rows) - 1


def test_a_synthetic_school_year(db):
    """``cartable evaluation_synthetic`` at small scale: every request inside the year, the
    lessons and presences asked, both sides' quality, and indicators that add up."""
    from django.core.management import call_command
    from django.db.models import Count

    from cartable.live.models import Attendance, LiveSession, SessionQuality
    from cartable.surveys.models import SurveyResponse

    call_command(
        "evaluation_synthetic",
        kits=12,
        loans=40,
        lessons=600,
        seed=3,
        year="2025-2026",
        stdout=__import__("io").StringIO(),
    )
    period = school_year(2025)
    loans = Loan.objects.filter(kit__code__startswith="EVA-") | Loan.objects.filter(
        school_class__name__startswith="Classe d'évaluation"
    )
    assert loans.count() == 40
    start, end = ind.bounds(period)
    assert not loans.exclude(created_at__gte=start, created_at__lt=end).exists()
    assert LiveSession.objects.count() == 600
    per_session = LiveSession.objects.annotate(
        classes=Count("attendance", filter=Q(attendance__side="class")),
        pupils=Count("attendance", filter=Q(attendance__side="pupil")),
    )
    assert not per_session.exclude(classes=1).exists()
    assert not per_session.filter(pupils=0).exists()
    assert Attendance.objects.count() > 2 * 600
    assert SessionQuality.objects.count() == 2 * 600
    assert SurveyResponse.objects.exists()

    result = compute(period, national())
    assert result.loans_requested == 40
    assert result.lessons == 600
    assert result.kits_total == 12
    assert result.quality_lessons == 600
    assert result.quality_good + result.quality_degraded + result.quality_poor == 600
    assert 0 < result.quality_relayed < 600
    assert result.quality_good > result.quality_poor
    assert sum(result.pupils_by_place.values()) >= result.pupils_served > 0
    assert result.live_hours > 0 and result.loan_weeks > 0
    assert 20 <= result.lesson_median_minutes <= 60
    assert result.request_to_first_lesson_median_days > 0
    # The same set, seen by académie, adds up to the national figures.
    from cartable.organisation.models import Academy

    total = sum(
        compute(period, Scope(ACADEMY, academy=academy)).lessons
        for academy in Academy.objects.all()
    )
    assert total == 600


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"year": "2025"}, "Année scolaire attendue sous la forme 2025-2026."),
        ({"year": "2025-2026", "kits": 0}, "Il faut au moins un cartable"),
    ],
)
def test_the_synthetic_command_refuses_bad_options(db, options, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("evaluation_synthetic", loans=5, lessons=10, **options)
    assert not Kit.objects.exists()


def test_the_synthetic_command_refuses_a_second_year_on_the_same_database(db):
    import io

    from django.core.management import CommandError, call_command

    options = {"kits": 2, "loans": 4, "lessons": 10, "year": "2025-2026", "stdout": io.StringIO()}
    call_command("evaluation_synthetic", **options)
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("evaluation_synthetic", **options)
    assert Kit.objects.count() == 2
