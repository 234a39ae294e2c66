"""The loan pages: the request form, the list, the loan page and each step's form.

Each is refused to those without the right (an anonymous visitor goes to sign in, anyone
else signed in gets 404), bad input gets a French message and writes nothing, and pupils'
names reach only those with ``Action.VIEW`` on the loan.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cartable.fleet import services
from cartable.fleet.models import Kit, Loan, LoanEvent
from cartable.fleet.services import CLASS_SIDE, PUPIL_SIDE
from cartable.live.models import LiveSession
from cartable.organisation.models import Department, RoleGrant

from ..conftest import force_login, make_person
from .test_loans import make_kit, make_pupil


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user) -> Client:
    client = Client()
    force_login(client, user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


class World:
    """A Versailles pupil (Yvelines) with a requested loan, an Essonne pupil, a Paris
    pupil, and the people around them."""

    def __init__(self):
        from cartable.organisation.services import academies_load

        academies_load()
        self.pupil = make_pupil("78", "Anatoline")
        self.klass = self.pupil.school_class
        self.essonne_pupil = make_pupil("91", "Zéphyrine")
        self.paris_pupil = make_pupil("75", "Barnabée")
        yvelines = Department.objects.get(code="78")
        self.coordinator = make_person(
            "coordo.78", {"role": RoleGrant.Role.DEPARTMENT, "department": yvelines}
        )
        self.other_coordinator = make_person(
            "coordo.91",
            {
                "role": RoleGrant.Role.DEPARTMENT,
                "department": Department.objects.get(code="91"),
            },
        )
        self.paris_coordinator = make_person(
            "coordo.75",
            {
                "role": RoleGrant.Role.DEPARTMENT,
                "department": Department.objects.get(code="75"),
            },
        )
        self.fleet = make_person("parc", {"role": RoleGrant.Role.FLEET})
        self.teacher = make_person(
            "prof", {"role": RoleGrant.Role.TEACHER, "school_class": self.klass}
        )
        self.other_teacher = make_person(
            "autre.prof",
            {"role": RoleGrant.Role.TEACHER, "school_class": self.essonne_pupil.school_class},
        )
        self.dane = make_person(
            "dane", {"role": RoleGrant.Role.ACADEMY, "academy": yvelines.academy}
        )
        self.ministry = make_person("ministere", {"role": RoleGrant.Role.NATIONAL})
        self.outsider = make_person("intrus")
        self.loan = services.loan_request(
            pupil=self.pupil,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=60),
            place_kind=Loan.PlaceKind.HOSPITAL,
            pupil_department=yvelines,
            by=self.coordinator,
        )
        self.essonne_loan = services.loan_request(
            pupil=self.essonne_pupil,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=30),
            place_kind=Loan.PlaceKind.HOME,
            by=self.other_coordinator,
        )
        self.kit = make_kit("CC-G3-0100")

    def family(self):
        return make_person("famille", {"role": RoleGrant.Role.FAMILY, "loan": self.loan})

    def to(self, status: str) -> Loan:
        """Bring the loan to ``status`` through the services."""
        order = [Loan.Status.ASSIGNED, Loan.Status.SHIPPED, Loan.Status.ACTIVE, Loan.Status.ENDED]
        steps = {
            Loan.Status.ASSIGNED: lambda: services.loan_assign(loan=self.loan, kit=self.kit),
            Loan.Status.SHIPPED: lambda: services.loan_ship(loan=self.loan),
            Loan.Status.ACTIVE: lambda: (
                services.loan_confirm_installation(loan=self.loan, side=CLASS_SIDE),
                services.loan_confirm_installation(loan=self.loan, side=PUPIL_SIDE),
            ),
            Loan.Status.ENDED: lambda: services.loan_end(loan=self.loan),
        }
        for step in order[: order.index(status) + 1]:
            steps[step]()
        self.loan.refresh_from_db()
        return self.loan


@pytest.fixture
def world(db) -> World:
    return World()


def url(name: str, loan: Loan) -> str:
    from django.urls import reverse

    return reverse(f"fleet:{name}", args=[loan.pk])


# Anonymous and people without the right --------------------------------------------------------

ACTIONS = [
    "loan_assign",
    "loan_ship",
    "loan_install_class",
    "loan_install_pupil",
    "loan_extend",
    "loan_end",
    "loan_cancel",
    "loan_return",
]


def test_an_anonymous_visitor_is_sent_to_sign_in_everywhere(world):
    client = Client()
    for path in (
        "/prets/",
        "/prets/demande/",
        url("loan", world.loan),
        url("loan_end", world.loan),
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/connexion/?next={path}"
    for name in ACTIONS:
        response = client.post(url(name, world.loan), {"kit": world.kit.pk})
        assert response.status_code == 302, name
        assert response["Location"] == f"/connexion/?next={url('loan', world.loan)}"
    world.loan.refresh_from_db()
    assert world.loan.status == Loan.Status.REQUESTED


@pytest.mark.parametrize("who", ["teacher", "other_teacher", "dane", "ministry", "outsider"])
def test_the_request_form_and_the_list_are_only_for_coordinators_and_the_fleet(world, who):
    client = signed_in(getattr(world, who))
    assert client.get("/prets/demande/").status_code == 404
    assert client.post("/prets/demande/", {"pupil": world.pupil.pk}).status_code == 404
    assert client.get("/prets/").status_code == 404
    assert Loan.objects.count() == 2


def test_the_fleet_may_not_request_a_loan(world):
    assert signed_in(world.fleet).get("/prets/demande/").status_code == 404


@pytest.mark.parametrize(
    "who", ["other_teacher", "other_coordinator", "dane", "ministry", "outsider"]
)
def test_a_loan_outside_ones_scope_answers_404_to_every_page_and_step(world, who):
    world.to(Loan.Status.SHIPPED)
    client = signed_in(getattr(world, who))
    assert client.get(url("loan", world.loan)).status_code == 404
    assert client.get(url("loan_end", world.loan)).status_code == 404
    for name in ACTIONS:
        response = client.post(url(name, world.loan), {"kit": world.kit.pk})
        assert response.status_code == 404, name
    world.loan.refresh_from_db()
    assert world.loan.status == Loan.Status.SHIPPED
    assert world.loan.events.count() == 3


def test_each_step_is_refused_to_a_role_that_does_not_do_it(world):
    world.to(Loan.Status.SHIPPED)
    teacher, coordinator, family = (
        signed_in(world.teacher),
        signed_in(world.coordinator),
        signed_in(world.family()),
    )
    refused = [
        (teacher, "loan_ship"),
        (teacher, "loan_install_pupil"),
        (teacher, "loan_extend"),
        (teacher, "loan_end"),
        (teacher, "loan_cancel"),
        (coordinator, "loan_ship"),
        (coordinator, "loan_assign"),
        (coordinator, "loan_return"),
        (family, "loan_install_class"),
        (family, "loan_end"),
    ]
    for client, name in refused:
        assert client.post(url(name, world.loan), {"kit": world.kit.pk}).status_code == 404, name
    world.loan.refresh_from_db()
    assert world.loan.class_installed_at is None and world.loan.pupil_installed_at is None


def test_the_steps_are_post_only(world):
    client = signed_in(world.fleet)
    for name in ACTIONS:
        if name != "loan_end":  # its GET asks to confirm
            assert client.get(url(name, world.loan)).status_code == 405, name


# The request form ------------------------------------------------------------------------------


def test_a_coordinator_chooses_among_their_departements_pupils(world):
    response = signed_in(world.coordinator).get("/prets/demande/")
    assert response.status_code == 200
    page = text(response)
    assert "Anatoline" in page and world.klass.school.name in page and world.klass.name in page
    assert "Zéphyrine" not in page and "Barnabée" not in page
    assert 'type="date"' in page


def test_a_pupil_is_preselected_with_their_class_and_school_department(world):
    response = signed_in(world.coordinator).get(f"/prets/demande/?eleve={world.pupil.pk}")
    form = response.context["form"]
    assert form["pupil"].value() == world.pupil.pk
    assert form["pupil_department"].value() == world.klass.school.department_id
    page = text(response)
    assert f"Pour <strong>Anatoline</strong>, classe {world.klass.name}" in page
    # A pupil outside the scope is not preselected (nor named).
    other = signed_in(world.coordinator).get(f"/prets/demande/?eleve={world.essonne_pupil.pk}")
    assert other.context["form"]["pupil"].value() is None
    assert "Zéphyrine" not in text(other)


def _request_data(world, **changes) -> dict:
    data = {
        "pupil": world.pupil.pk,
        "starts_on": "2026-12-01",
        "ends_on": "2027-02-15",
        "place_kind": Loan.PlaceKind.HOSPITAL_SCHOOL,
        "pupil_department": "",
    }
    data.update(changes)
    return data


def test_a_coordinator_requests_a_kit(world):
    services.loan_cancel(loan=world.loan)
    client = signed_in(world.coordinator)
    response = client.post("/prets/demande/", _request_data(world, starts_on="01/12/2026"))
    loan = Loan.objects.exclude(pk__in=[world.loan.pk, world.essonne_loan.pk]).get()
    assert response.status_code == 302
    assert response["Location"] == url("loan", loan)
    assert (loan.pupil, loan.school_class, loan.status) == (
        world.pupil,
        world.klass,
        Loan.Status.REQUESTED,
    )
    assert (loan.starts_on, loan.ends_on) == (date(2026, 12, 1), date(2027, 2, 15))
    assert loan.place_kind == Loan.PlaceKind.HOSPITAL_SCHOOL
    assert loan.pupil_department == world.klass.school.department  # the school's by default
    assert loan.requested_by == world.coordinator
    page = text(client.get(response["Location"]))
    assert "La demande de cartable pour Anatoline est enregistrée" in page


def test_the_pupils_departement_may_differ_from_the_schools(world):
    services.loan_cancel(loan=world.loan)
    paris = Department.objects.get(code="75")
    signed_in(world.coordinator).post(
        "/prets/demande/", _request_data(world, pupil_department=paris.pk)
    )
    assert Loan.objects.get(pupil=world.pupil, status=Loan.Status.REQUESTED).pupil_department == (
        paris
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_on": "2026-11-30"}, "La fin prévue doit suivre le début."),
        ({"starts_on": "31/02/2026"}, "Date attendue au format JJ/MM/AAAA"),
        ({"ends_on": "demain"}, "Date attendue au format JJ/MM/AAAA"),
        ({"starts_on": ""}, "Indiquez la date de début prévue."),
        ({"pupil": ""}, "Choisissez l'élève pour qui vous demandez un cartable."),
        ({"place_kind": "plage"}, "Choisissez un lieu de la liste."),
        ({"pupil_department": "999999"}, "Choisissez un département de la liste."),
    ],
)
def test_bad_input_is_explained_in_french_and_nothing_is_written(world, changes, message):
    services.loan_cancel(loan=world.loan)
    before = (Loan.objects.count(), LoanEvent.objects.count())
    response = signed_in(world.coordinator).post("/prets/demande/", _request_data(world, **changes))
    assert response.status_code == 400
    page = text(response)
    assert 'role="alert"' in page and message in page
    assert (Loan.objects.count(), LoanEvent.objects.count()) == before


def test_a_pupil_outside_the_scope_is_refused(world):
    before = (Loan.objects.count(), LoanEvent.objects.count())
    response = signed_in(world.coordinator).post(
        "/prets/demande/", _request_data(world, pupil=world.paris_pupil.pk)
    )
    assert response.status_code == 400
    assert "Cet élève est hors de votre département." in text(response)
    assert (Loan.objects.count(), LoanEvent.objects.count()) == before


def test_a_pupil_with_an_open_request_is_refused(world):
    before = (Loan.objects.count(), LoanEvent.objects.count())
    response = signed_in(world.coordinator).post("/prets/demande/", _request_data(world))
    assert response.status_code == 400
    assert "Une mise à disposition est déjà demandée ou en cours pour cet élève." in text(response)
    assert (Loan.objects.count(), LoanEvent.objects.count()) == before


# The list --------------------------------------------------------------------------------------


def test_the_fleet_sees_every_loan_requested_first_without_names(world):
    world.to(Loan.Status.ASSIGNED)
    response = signed_in(world.fleet).get("/prets/")
    assert response.status_code == 200
    rows = [loan for loan, name in response.context["rows"]]
    assert rows == [world.essonne_loan, world.loan]  # the request to assign comes first
    assert all(name is None for loan, name in response.context["rows"])
    page = text(response)
    for name in ("Anatoline", "Zéphyrine", "Barnabée"):
        assert name not in page
    assert world.klass.school.name in page and "Cinquième" in page and "CC-G3-0100" in page
    assert "<td>Hôpital</td>" in page and "<td>78</td>" in page


def test_the_list_filters_by_step(world):
    world.to(Loan.Status.ASSIGNED)
    response = signed_in(world.fleet).get("/prets/?etape=assigned")
    assert [loan for loan, _ in response.context["rows"]] == [world.loan]
    page = text(response)
    assert "Cartable attribué (1)" in page and "Demandé (1)" in page
    unknown = signed_in(world.fleet).get("/prets/?etape=nimporte")
    assert len(unknown.context["rows"]) == 2


def test_a_coordinator_sees_their_departements_loans_with_names(world):
    response = signed_in(world.coordinator).get("/prets/")
    assert response.status_code == 200
    assert response.context["rows"] == [(world.loan, "Anatoline")]
    page = text(response)
    assert "Anatoline" in page and "Zéphyrine" not in page


# The loan page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["fleet", "coordinator", "teacher"])
def test_those_concerned_open_the_loan_page(world, who):
    world.to(Loan.Status.SHIPPED)
    response = signed_in(getattr(world, who)).get(url("loan", world.loan))
    assert response.status_code == 200
    page = text(response)
    assert "Étape : <strong>Expédié</strong>" in page
    assert ("Anatoline" in page) == (who != "fleet")


def test_the_fleet_sees_roles_not_names_in_the_steps(world):
    world.coordinator.first_name, world.coordinator.last_name = "Camille", "Durand"
    world.coordinator.save()
    page = text(signed_in(world.fleet).get(url("loan", world.loan)))
    assert "Demande, par Coordonnateur APADHE (département)" in page
    assert "Durand" not in page and "Anatoline" not in page
    page = text(signed_in(world.coordinator).get(url("loan", world.loan)))
    assert "Demande, par Camille Durand (Coordonnateur APADHE (département))" in page


def test_the_page_shows_the_time_from_request_to_the_first_live_lesson(world):
    paris = ZoneInfo("Europe/Paris")
    Loan.objects.filter(pk=world.loan.pk).update(created_at=datetime(2026, 9, 1, 9, tzinfo=paris))
    world.to(Loan.Status.ACTIVE)
    for day in (4, 3):
        LiveSession.objects.create(
            loan=world.loan,
            started_at=datetime(2026, 9, day, 11, 30, tzinfo=paris),
            ended_at=datetime(2026, 9, day, 12, tzinfo=paris),
        )
    page = text(signed_in(world.coordinator).get(url("loan", world.loan)))
    assert "le 3 septembre 2026 à 11:30, 2 jours et 2 heures après la demande" in page


def test_no_live_lesson_yet_is_said(world):
    page = text(signed_in(world.fleet).get(url("loan", world.loan)))
    assert "Première séance en direct" in page and "aucune pour l'instant" in page


# The steps through the pages -------------------------------------------------------------------


def _post(client, name, loan, data=None, *, follow=True):
    return client.post(url(name, loan), data or {}, follow=follow)


def test_the_workflow_through_the_pages(world):
    fleet, teacher, coordinator = (
        signed_in(world.fleet),
        signed_in(world.teacher),
        signed_in(world.coordinator),
    )
    page = text(fleet.get(url("loan", world.loan)))
    assert "Attribuer un cartable" in page and "CC-G3-0100" in page
    response = _post(fleet, "loan_assign", world.loan, {"kit": world.kit.pk})
    assert "Le cartable CC-G3-0100 est attribué" in text(response)
    response = _post(fleet, "loan_ship", world.loan)
    assert "Le cartable CC-G3-0100 est noté expédié." in text(response)

    home = text(teacher.get("/"))
    assert f'href="{url("loan", world.loan)}"' in home
    response = _post(teacher, "loan_install_class", world.loan)
    assert "L'installation en classe est confirmée." in text(response)
    assert "Confirmer l'installation en classe" not in text(response)
    assert f'href="{url("loan", world.loan)}"' not in text(teacher.get("/"))

    response = _post(coordinator, "loan_install_pupil", world.loan)
    assert "la mise à disposition est en cours" in text(response)
    new_end = world.loan.ends_on + timedelta(days=14)
    response = _post(coordinator, "loan_extend", world.loan, {"prolonger-ends_on": new_end})
    assert "La fin prévue est reportée" in text(response)
    confirm = coordinator.get(url("loan_end", world.loan))
    assert "Oui, terminer la mise à disposition" in text(confirm)
    response = _post(coordinator, "loan_end", world.loan)
    assert "le cartable CC-G3-0100 est attendu en retour" in text(response)
    response = _post(fleet, "loan_return", world.loan, {"retour-needs_repair": "on"})
    assert "il est en réparation" in text(response)

    world.loan.refresh_from_db()
    world.kit.refresh_from_db()
    assert (world.loan.status, world.loan.ends_on, world.kit.status) == (
        Loan.Status.RETURNED,
        new_end,
        Kit.Status.IN_REPAIR,
    )
    assert [event.by for event in world.loan.events.all()] == [
        world.coordinator,
        world.fleet,
        world.fleet,
        world.teacher,
        world.coordinator,
        world.coordinator,
        world.coordinator,
        world.fleet,
    ]


def test_family_confirms_the_pupil_side(world):
    world.to(Loan.Status.SHIPPED)
    family = signed_in(world.family())
    home = text(family.get("/"))
    assert f'href="{url("loan", world.loan)}"' in home
    page = text(family.get(url("loan", world.loan)))
    assert "Confirmer l'installation chez l'élève" in page
    assert "Confirmer l'installation en classe" not in page
    response = _post(family, "loan_install_pupil", world.loan)
    assert "L'installation chez l'élève est confirmée." in text(response)


def test_a_v5_kit_is_not_offered_outside_the_pilot_and_a_forged_post_is_refused(world):
    v5 = make_kit("CC-V5-0100", Kit.Generation.V5)
    paris_loan = services.loan_request(
        pupil=world.paris_pupil,
        starts_on=date(2026, 12, 1),
        ends_on=date(2027, 1, 31),
        place_kind=Loan.PlaceKind.HOME,
    )
    fleet = signed_in(world.fleet)
    response = fleet.get(url("loan", paris_loan))
    offered = [kit.code for kit in response.context["assign_form"].offered]
    assert offered == ["CC-G3-0100"]
    assert "CC-V5-0100" not in text(response)
    # In Versailles the V5 kit is offered.
    offered = fleet.get(url("loan", world.loan)).context["assign_form"].offered
    assert [kit.code for kit in offered] == ["CC-G3-0100", "CC-V5-0100"]

    response = _post(fleet, "loan_assign", paris_loan, {"kit": v5.pk}, follow=False)
    assert response.status_code == 409
    page = text(response)
    assert 'role="alert"' in page
    assert "Le cartable CC-V5-0100 est de génération V5" in page
    paris_loan.refresh_from_db()
    v5.refresh_from_db()
    assert (paris_loan.status, paris_loan.kit_id, v5.status) == (
        Loan.Status.REQUESTED,
        None,
        Kit.Status.IN_STOCK,
    )


def test_a_kit_already_taken_is_refused_with_the_services_message(world):
    services.loan_assign(loan=world.essonne_loan, kit=world.kit)
    response = _post(
        signed_in(world.fleet), "loan_assign", world.loan, {"kit": world.kit.pk}, follow=False
    )
    assert response.status_code == 409
    assert "Le cartable CC-G3-0100 n'est pas en stock." in text(response)
    world.loan.refresh_from_db()
    assert world.loan.status == Loan.Status.REQUESTED


@pytest.mark.parametrize(
    ("kit", "message"),
    [("", "Choisissez le cartable à attribuer."), ("987654", "Ce cartable n'existe pas.")],
)
def test_assigning_without_a_kit_is_explained(world, kit, message):
    response = _post(signed_in(world.fleet), "loan_assign", world.loan, {"kit": kit}, follow=False)
    assert response.status_code == 400
    assert message in text(response) and 'role="alert"' in text(response)


def test_a_step_out_of_order_is_refused_on_the_page(world):
    response = _post(signed_in(world.fleet), "loan_ship", world.loan, follow=False)
    assert response.status_code == 409
    page = text(response)
    assert 'role="alert"' in page
    assert (
        "Cette mise à disposition est à l'étape « Demandé » : cette action n'est plus possible."
        in page
    )
    world.loan.refresh_from_db()
    assert world.loan.status == Loan.Status.REQUESTED and world.loan.events.count() == 1


@pytest.mark.parametrize(
    ("ends_on", "status", "message"),
    [
        ("", 400, "Indiquez la nouvelle date de fin."),
        ("15/13/2026", 400, "Date attendue au format JJ/MM/AAAA"),
        ("2020-01-01", 409, "La nouvelle fin doit être après la fin prévue actuelle"),
    ],
)
def test_a_bad_extension_is_explained_and_changes_nothing(world, ends_on, status, message):
    before = world.loan.ends_on
    response = _post(
        signed_in(world.coordinator),
        "loan_extend",
        world.loan,
        {"prolonger-ends_on": ends_on},
        follow=False,
    )
    assert response.status_code == status
    assert message in text(response) and 'role="alert"' in text(response)
    world.loan.refresh_from_db()
    assert world.loan.ends_on == before
    assert not world.loan.events.filter(kind=LoanEvent.Kind.EXTENDED).exists()


def test_a_coordinator_cancels_an_assigned_loan_and_the_kit_goes_back_to_stock(world):
    world.to(Loan.Status.ASSIGNED)
    response = _post(signed_in(world.coordinator), "loan_cancel", world.loan)
    assert "le cartable CC-G3-0100 retourne en stock" in text(response)
    world.kit.refresh_from_db()
    assert world.kit.status == Kit.Status.IN_STOCK


def test_a_shipped_loan_cannot_be_cancelled_from_its_page(world):
    world.to(Loan.Status.SHIPPED)
    client = signed_in(world.coordinator)
    assert "Annuler" not in text(client.get(url("loan", world.loan)))
    response = _post(client, "loan_cancel", world.loan, follow=False)
    assert response.status_code == 409
    assert "à l'étape « Expédié »" in text(response)


def test_ending_asks_to_confirm_first(world):
    world.to(Loan.Status.ACTIVE)
    client = signed_in(world.coordinator)
    page = text(client.get(url("loan", world.loan)))
    assert f'href="{url("loan_end", world.loan)}"' in page
    assert client.get(url("loan_end", world.loan)).status_code == 200
    world.loan.refresh_from_db()
    assert world.loan.status == Loan.Status.ACTIVE  # a GET changes nothing


def test_the_end_page_of_a_loan_not_running_says_so(world):
    page = text(signed_in(world.coordinator).get(url("loan_end", world.loan)))
    assert 'role="alert"' in page and "ne peut pas être terminée" in page
    assert "Oui, terminer" not in page


def test_home_links_follow_the_rights(world):
    coordinator = text(signed_in(world.coordinator).get("/"))
    assert "Demander un cartable" in coordinator and "Mises à disposition" in coordinator
    fleet = text(signed_in(world.fleet).get("/"))
    assert "Demander un cartable" not in fleet and "Mises à disposition" in fleet
    for who in ("teacher", "dane", "outsider"):
        page = text(signed_in(getattr(world, who)).get("/"))
        assert "Demander un cartable" not in page and '/prets/"' not in page, who


def test_the_time_is_shown_in_the_platforms_zone(world):
    with time_machine.travel(datetime(2026, 9, 14, 22, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        services.loan_assign(loan=world.loan, kit=world.kit)
    page = text(signed_in(world.fleet).get(url("loan", world.loan)))
    assert "15 septembre 2026 à 00:30" in page
