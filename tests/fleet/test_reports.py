"""Continuous reporting: the fleet overview per scope (kits by status and generation,
running loans, live hours this week, the reclaim and offline lists) and a kit's page, with
a frozen clock and the holiday calendar; who may see what; no pupil's name anywhere."""

from __future__ import annotations

import html
from datetime import date

import pytest
import time_machine
from django.test import Client

from cartable.fleet import reports
from cartable.fleet.models import Device, Kit, Loan
from cartable.live.models import Attendance
from cartable.organisation.models import Department, RoleGrant

from ..conftest import force_login
from .reporting_data import (
    at,
    coordinator_of,
    dane_of,
    device,
    lesson,
    person,
    running_loan,
    toussaint_zone_c,
)

PUPILS = ["Aglaé", "Bérénice", "Clothilde", "Dieudonné", "Eustache"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.FLEET = {**settings.FLEET, "RECLAIM_AFTER_SCHOOL_DAYS": 10, "OFFLINE_AFTER_HOURS": 48}


def signed_in(user) -> Client:
    return force_login(Client(), user)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def fleet_data(db):
    """Loans in the Yvelines (78) and the Essonne (91), académie de Versailles, zone C with
    its Toussaint holidays, and in the Alpes-Maritimes (06), académie de Nice, zone B (no
    holiday loaded): each with the lessons and devices the tests below reckon with."""
    toussaint_zone_c()
    start = date(2026, 9, 7)
    v1 = running_loan("78", "V-0001", starts_on=start, pupil_name=PUPILS[0])
    v2 = running_loan(
        "91", "V-0002", starts_on=start, pupil_name=PUPILS[1], place_kind=Loan.PlaceKind.HOME
    )
    v3 = running_loan(
        "78",
        "V-0003",
        starts_on=date(2026, 11, 2),
        pupil_name=PUPILS[2],
        status=Loan.Status.SHIPPED,
        generation=Kit.Generation.V5,
    )
    n1 = running_loan("06", "N-0001", starts_on=start, pupil_name=PUPILS[3])
    # Not running: starts later; and one ended.
    later = running_loan("78", "V-0004", starts_on=date(2027, 1, 4), pupil_name=PUPILS[4])
    ended = running_loan("91", "V-0005", starts_on=start, pupil_name="Fulbert")
    Loan.objects.filter(pk=ended.pk).update(status=Loan.Status.ENDED, ended_at=at(2026, 10, 1, 12))
    Kit.objects.filter(pk=ended.kit_id).update(status=Kit.Status.RETURNING)
    Kit.objects.create(code="S-0001", status=Kit.Status.IN_STOCK)
    Kit.objects.create(code="S-0002", status=Kit.Status.IN_REPAIR, generation=Kit.Generation.V5)

    # V-0001 and N-0001: last lesson on Wednesday 14 October.
    lesson(v1, at(2026, 10, 14, 9), 60)
    lesson(n1, at(2026, 10, 14, 9), 60)
    # V-0002: a lesson the week before, and this week's (week of Monday 9 November).
    lesson(v2, at(2026, 11, 5, 9), 90)  # 1.5 h, last week
    lesson(v2, at(2026, 11, 9, 9), 60, pupil=[(5, 45), (52, 8)])  # 53 min
    lesson(v2, at(2026, 11, 10, 14), 60, pupil=[(0, 30)])  # 30 min
    # Still running at 10:00 on Thursday 12 November, the pupil in since 9:40: 20 min.
    # Running: the pupil's connection was last heard of at 10:00.
    lesson(v2, at(2026, 11, 12, 9, 30), 0, pupil=[(10, None)], ended=False, seen=30)

    # Devices: V-0001 silent since Tuesday 9:00 (49 h before Thursday 10:00) and a tablet
    # never seen; V-0002 heard 47 h before; N-0001 has none; V-0003's never beat.
    device(v1.kit, Device.Kind.CLASS_BOX, at(2026, 11, 10, 9))
    device(v1.kit, Device.Kind.PUPIL_TABLET, None)
    device(v2.kit, Device.Kind.CLASS_BOX, at(2026, 11, 10, 11))
    device(v2.kit, Device.Kind.PUPIL_TABLET, None)
    device(v3.kit, Device.Kind.CLASS_BOX, None)
    return {"v1": v1, "v2": v2, "v3": v3, "n1": n1, "later": later, "ended": ended}


@pytest.fixture
def fleet_team(db):
    return person("parc.rapport", RoleGrant.Role.FLEET)


def reclaim_codes(scope=None) -> dict[str, int]:
    return {
        row.loan.kit.code: row.idle_school_days
        for row in reports.reclaim_candidates(scope or reports.Scope())
    }


# The reclaim list, with the holiday calendar --------------------------------------------------


def test_a_loan_idle_over_the_holidays_waits_ten_school_days(fleet_data):
    # Thursday 29 October: 10 weekdays since Thursday 15 October. In zone B (Nice, no
    # holiday loaded) that is 10 school days; in zone C the Toussaint holidays do not count.
    with time_machine.travel(at(2026, 10, 29, 10), tick=False):
        assert reclaim_codes() == {"N-0001": 10}
    with time_machine.travel(at(2026, 11, 11, 18), tick=False):
        assert reclaim_codes() == {"N-0001": 19}  # V-0001: 9 school days, not yet
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        assert reclaim_codes() == {"N-0001": 20, "V-0001": 10}


def test_a_lesson_puts_the_count_back_to_zero(fleet_data):
    lesson(fleet_data["v1"], at(2026, 11, 3, 9), 55)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        assert "V-0001" not in reclaim_codes()
    # From Wednesday 4 November, the day after: 10 school days end on Tuesday 17.
    with time_machine.travel(at(2026, 11, 17, 10), tick=False):
        assert "V-0001" not in reclaim_codes()
    with time_machine.travel(at(2026, 11, 18, 10), tick=False):
        assert reclaim_codes()["V-0001"] == 10


def test_a_loan_without_any_lesson_counts_from_its_start(fleet_data):
    # V-0003 was shipped for Monday 2 November and never used: 10 school days on the 16th.
    with time_machine.travel(at(2026, 11, 13, 17), tick=False):
        assert "V-0003" not in reclaim_codes()
    with time_machine.travel(at(2026, 11, 16, 8), tick=False):
        assert reclaim_codes()["V-0003"] == 10


def test_loans_not_running_are_never_candidates(fleet_data):
    with time_machine.travel(at(2027, 1, 4, 10), tick=False):
        codes = reclaim_codes()
    assert "V-0004" not in codes  # starts today
    assert "V-0005" not in codes  # ended


def test_a_school_without_academie_counts_plain_weekdays(fleet_data):
    school = fleet_data["v1"].school_class.school
    school.department = None
    school.save(update_fields=["department"])
    with time_machine.travel(at(2026, 10, 29, 10), tick=False):
        assert reclaim_codes() == {"N-0001": 10, "V-0001": 10}


# The offline list -----------------------------------------------------------------------------


def test_kits_on_loan_silent_for_48_hours_are_offline(fleet_data):
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        offline = reports.offline_loans(reports.Scope())
    rows = {loan.kit.code: (loan.device_count, loan.last_heartbeat) for loan in offline}
    assert rows == {
        "V-0001": (2, at(2026, 11, 10, 9)),  # 49 hours
        "V-0003": (1, None),  # shipped, never switched on
        "N-0001": (0, None),  # no device recorded
    }
    # Never seen first, then the longest silent.
    assert [loan.kit.code for loan in offline][-1] == "V-0001"
    # One more hour and V-0002 (47 h at 10:00) is offline too.
    with time_machine.travel(at(2026, 11, 12, 11, 1), tick=False):
        assert "V-0002" in {loan.kit.code for loan in reports.offline_loans(reports.Scope())}


def test_one_device_heard_recently_keeps_the_kit_online(fleet_data):
    device(fleet_data["v1"].kit, Device.Kind.ROUTER_4G, at(2026, 11, 12, 9, 59))
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        codes = {loan.kit.code for loan in reports.offline_loans(reports.Scope())}
    assert "V-0001" not in codes


# Live hours -----------------------------------------------------------------------------------


def test_live_hours_are_the_pupils_presences(fleet_data):
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        summary = reports.overview(reports.Scope())
    # This week: 53 + 30 + 20 (the pupil is still in the running lesson) minutes.
    assert summary.live_hours_week == pytest.approx(103 / 60)
    assert summary.week_start == at(2026, 11, 9)
    # The class side is not usage: without the pupil's presences, nothing.
    Attendance.objects.filter(side=Attendance.Side.PUPIL).delete()
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        assert reports.overview(reports.Scope()).live_hours_week == 0


def test_a_presence_left_open_counts_up_to_its_last_sign_of_life(fleet_data):
    # A server killed at 14:25 left the row open: it counts 15 minutes, not up to the end of
    # the session (14:40) nor up to now (days later).
    lesson(fleet_data["n1"], at(2026, 11, 9, 14), 40, pupil=[(10, None)], seen=25)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        nice = reports.overview(
            reports.Scope(academy=fleet_data["n1"].school_class.school.department.academy)
        )
    assert nice.live_hours_week == pytest.approx(15 / 60)


def test_a_presence_left_open_without_any_sign_of_life_counts_nothing(fleet_data):
    lesson(fleet_data["n1"], at(2026, 11, 9, 14), 40, pupil=[(10, None)])
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        nice = reports.overview(
            reports.Scope(academy=fleet_data["n1"].school_class.school.department.academy)
        )
    assert nice.live_hours_week == 0


def test_the_kit_timeline_gives_live_hours_per_iso_week(fleet_data, fleet_team):
    from cartable.organisation.access import Actor

    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        timeline = reports.kit_timeline(Actor(user=fleet_team), fleet_data["v2"].kit)
    (item,) = timeline.loans
    assert item.weeks == [
        (date(2026, 11, 2), pytest.approx(1.5)),
        (date(2026, 11, 9), pytest.approx(103 / 60)),
    ]
    assert item.sessions == 4
    assert item.live_hours == pytest.approx(1.5 + 103 / 60)
    assert item.last_session_at == at(2026, 11, 12, 9, 30)
    assert timeline.last_use.started_at == at(2026, 11, 12, 9, 30)
    assert timeline.last_heartbeat == at(2026, 11, 10, 11)
    assert timeline.online_devices == 0


# The overview page ----------------------------------------------------------------------------


def test_the_fleet_team_sees_the_national_overview(fleet_data, fleet_team):
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        response = signed_in(fleet_team).get("/parc/")
    assert response.status_code == 200
    page = text(response)
    summary = response.context["overview"]
    assert summary.scope.kind == "national"
    assert summary.kits == 8
    by_status = {row.status: (row.counts, row.total) for row in summary.status_rows}
    assert by_status[Kit.Status.ON_LOAN] == ([4, 0], 4)  # V-0001, V-0002, N-0001, V-0004
    assert by_status[Kit.Status.SHIPPED] == ([0, 1], 1)
    assert by_status[Kit.Status.IN_REPAIR] == ([0, 1], 1)
    assert summary.generation_totals == [6, 2]
    assert summary.running_loans == 4  # V-0001, V-0002, V-0003 (shipped), N-0001
    assert "Suivi du parc — France entière" in page
    assert "1,7</strong> heures en direct cette semaine" in page
    assert f'href="/parc/cartables/{fleet_data["v1"].kit_id}/"' in page
    for name in [*PUPILS, "Fulbert"]:
        assert name not in page
    assert "/parc/registre/prets.csv" in page and "/parc/registre/cartables.xlsx" in page


def test_a_dane_sees_their_academie_only(fleet_data):
    dane = dane_of("Nice")
    client = signed_in(dane)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        response = client.get("/parc/")
    assert response.status_code == 200
    summary = response.context["overview"]
    assert summary.scope.label == "académie de Nice"
    assert summary.kits == 1 and summary.running_loans == 1
    assert [row.loan.kit.code for row in summary.reclaim] == ["N-0001"]
    assert [loan.kit.code for loan in summary.offline] == ["N-0001"]
    assert summary.live_hours_week == 0
    page = text(response)
    assert "V-000" not in page and "S-000" not in page
    assert "/parc/registre/prets.ods?academie=23" in page
    # Another académie, or a département of another académie: not found.
    assert client.get("/parc/?academie=25").status_code == 404
    assert client.get("/parc/?departement=78").status_code == 404
    assert client.get("/parc/?academie=99").status_code == 404
    # A département of their own académie: yes.
    assert client.get("/parc/?departement=06").context["overview"].scope.kind == "department"
    # Their kits' pages only.
    assert client.get(f"/parc/cartables/{fleet_data['n1'].kit_id}/").status_code == 200
    assert client.get(f"/parc/cartables/{fleet_data['v1'].kit_id}/").status_code == 404


def test_a_coordinator_sees_their_departement_only(fleet_data):
    coordinator = coordinator_of("78")
    client = signed_in(coordinator)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        response = client.get("/parc/")
        summary = response.context["overview"]
    assert summary.scope.label == "département 78"
    assert summary.kits == 3  # V-0001, V-0003 and V-0004 (held, not yet started)
    assert {row.loan.kit.code for row in summary.reclaim} == {"V-0001"}
    assert {loan.kit.code for loan in summary.offline} == {"V-0001", "V-0003"}
    assert "V-0002" not in text(response) and "N-0001" not in text(response)
    assert client.get("/parc/?departement=91").status_code == 404
    assert client.get("/parc/?academie=25").status_code == 404
    assert client.get(f"/parc/cartables/{fleet_data['v2'].kit_id}/").status_code == 404
    assert client.get(f"/parc/cartables/{fleet_data['v1'].kit_id}/").status_code == 200


def test_the_fleet_team_and_the_ministry_choose_any_scope(fleet_data, fleet_team):
    ministry = person("ministere.rapport", RoleGrant.Role.NATIONAL)
    for user in (fleet_team, ministry):
        client = signed_in(user)
        with time_machine.travel(at(2026, 11, 12, 10), tick=False):
            versailles = client.get("/parc/?academie=25").context["overview"]
            essonne = client.get("/parc/?departement=91").context["overview"]
        # Held by a loan there: V-0001 to V-0004, and V-0005 (ended, coming back).
        assert versailles.kits == 5 and versailles.running_loans == 3
        assert {row.loan.kit.code for row in versailles.reclaim} == {"V-0001"}
        assert essonne.kits == 2  # V-0002 and V-0005 (ended, coming back)
        assert essonne.live_hours_week == pytest.approx(103 / 60)


# A kit's page ---------------------------------------------------------------------------------


def test_the_kit_page_shows_the_timeline_without_names(fleet_data, fleet_team):
    v1 = fleet_data["v1"]
    Department.objects.filter(code="92").update(name="Hauts-de-Seine")
    Loan.objects.filter(pk=v1.pk).update(pupil_department=Department.objects.get(code="92"))
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        response = signed_in(fleet_team).get(f"/parc/cartables/{v1.kit_id}/")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Cartable V-0001</h1>" in page
    school = v1.school_class.school
    assert f"{school.name} ({school.uai})" in page
    assert "Quatrième" in page and "Hôpital" in page
    assert "92 Hauts-de-Seine" in page  # the pupil's département
    assert "Demande" in page and "Expédition" in page  # dated steps
    assert "semaine 42 (du lundi 12 octobre 2026)" in page  # ISO week of the lesson
    assert "séance du 14 octobre 2026 à 09:00" in page  # last use
    assert "10 novembre 2026 à 09:00" in page  # last heartbeat
    assert "hors ligne" in page and "jamais" in page
    assert "Gestion du cartable V-0001" in page  # the fleet team manages it here too
    for name in PUPILS:
        assert name not in page


def test_loans_of_a_kit_outside_ones_scope_are_not_shown(fleet_data):
    # V-0002 goes back and is lent in the Alpes-Maritimes: the DANE of Nice follows it now,
    # but not its past loan in the Essonne.
    v2 = fleet_data["v2"]
    Loan.objects.filter(pk=v2.pk).update(status=Loan.Status.RETURNED, ended_at=at(2026, 11, 13))
    again = running_loan("06", "N-0002", starts_on=date(2026, 11, 16), pupil_name="Gaspard")
    Loan.objects.filter(pk=again.pk).update(kit=v2.kit)
    response = signed_in(dane_of("Nice")).get(f"/parc/cartables/{v2.kit_id}/")
    assert response.status_code == 200
    page = text(response)
    assert again.school_class.school.name in page
    assert v2.school_class.school.name not in page
    assert "1 autre prêt de ce cartable hors de votre périmètre n'est pas affiché" in page
    assert "Gestion du cartable" not in page


# Refusals -------------------------------------------------------------------------------------


@pytest.fixture
def pages(fleet_data):
    kit_id = fleet_data["v1"].kit_id
    return ["/parc/", f"/parc/cartables/{kit_id}/", "/parc/registre/prets.csv"]


def test_an_anonymous_visitor_is_sent_to_sign_in(pages):
    for path in pages:
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/connexion/?next={path}"


@pytest.mark.parametrize("who", ["teacher", "outsider", "school_head", "family"])
def test_people_who_follow_no_kit_do_not_find_the_pages(request, pages, who):
    client = signed_in(request.getfixturevalue(who))
    for path in pages:
        assert client.get(path).status_code == 404, path


def test_an_unknown_kit_is_not_found(fleet_team, db):
    assert signed_in(fleet_team).get("/parc/cartables/999999/").status_code == 404


def test_the_home_page_links_the_overview_for_those_who_follow_kits(fleet_data, fleet_team):
    assert 'href="/parc/">Suivi du parc' in text(signed_in(fleet_team).get("/"))
    assert 'href="/parc/">Suivi du parc' in text(signed_in(dane_of("Nice")).get("/"))
    assert 'href="/parc/">Suivi du parc' in text(signed_in(coordinator_of("78")).get("/"))
    outsider = person("personne.rapport", RoleGrant.Role.DPO)
    assert "Suivi du parc" not in text(signed_in(outsider).get("/"))
