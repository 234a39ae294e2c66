"""A loan from request to return, through the pages, in real Chromium: the coordinator
asks, the fleet team assigns (by keyboard alone) and ships, the teacher confirms the class
side, the coordinator the pupil side, extends and ends, the fleet team records the return.
Every page on the way is checked with axe-core, errors shown included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cartable.fleet.models import Kit, Loan, LoanEvent
from cartable.organisation.models import Department, RoleGrant
from cartable.organisation.services import academies_load

from ..conftest import make_person
from ..fleet.test_loans import make_kit, make_pupil
from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e


def tab_to(page, element_id: str) -> None:
    """Move the focus with the Tab key alone until it reaches ``element_id``."""
    for _ in range(80):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} is not reachable with the Tab key")


def tab_to_button(page, name: str) -> None:
    for _ in range(80):
        focused = page.evaluate(
            "document.activeElement && document.activeElement.tagName === 'BUTTON'"
            " && document.activeElement.textContent.trim()"
        )
        if focused == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"the button « {name} » is not reachable with the Tab key")


def test_a_loan_goes_from_request_to_return_through_the_pages(asgi_server, new_page):
    academies_load()
    pupil = make_pupil("78", "Maëlys")
    yvelines = Department.objects.get(code="78")
    coordinator = make_person(
        "coordo.78", {"role": RoleGrant.Role.DEPARTMENT, "department": yvelines}
    )
    fleet = make_person("parc", {"role": RoleGrant.Role.FLEET})
    teacher = make_person(
        "prof.5e", {"role": RoleGrant.Role.TEACHER, "school_class": pupil.school_class}
    )
    make_kit("CC-V5-0500", Kit.Generation.V5)  # Versailles is in the V5 pilot
    make_kit("CC-G3-0500")
    today = timezone.localdate()
    url = asgi_server.url

    # The coordinator asks for a kit (the dates are filled in: a date field's segments
    # follow the browser's own locale, whatever the page's language).
    coord = new_page()
    sign_in(coord, asgi_server, coordinator)
    coord.wait_for_url(f"{url}/")
    coord.get_by_role("link", name="Demander un cartable").click()
    coord.wait_for_url(f"{url}/prets/demande/")
    assert_accessible(coord)
    tab_to(coord, "id_pupil")
    coord.keyboard.press("ArrowDown")
    assert coord.locator("#id_pupil").input_value() == str(pupil.pk)
    coord.get_by_label("Début prévu").fill(today.isoformat())
    coord.get_by_label("Fin prévue").fill((today - timedelta(days=1)).isoformat())  # refused
    tab_to(coord, "id_place_kind_1")  # « Domicile », checked by default
    coord.keyboard.press("ArrowUp")  # « Hôpital »
    coord.keyboard.press("Enter")
    expect(coord.get_by_role("alert")).to_contain_text("La fin prévue doit suivre le début.")
    assert coord.locator("#id_ends_on").get_attribute("aria-invalid") == "true"
    assert not Loan.objects.exists()
    assert_accessible(coord)
    coord.get_by_label("Fin prévue").fill((today + timedelta(days=45)).isoformat())
    tab_to(coord, "id_pupil_department")
    coord.keyboard.press("Tab")
    assert coord.evaluate("document.activeElement.textContent") == "Envoyer la demande"
    coord.keyboard.press("Enter")
    coord.wait_for_url(re.compile(r".*/prets/\d+/$"))
    expect(coord.get_by_role("status")).to_contain_text(
        "La demande de cartable pour Maëlys est enregistrée"
    )
    loan = Loan.objects.get(pupil=pupil)
    assert (loan.starts_on, loan.ends_on, loan.place_kind, loan.pupil_department) == (
        today,
        today + timedelta(days=45),
        Loan.PlaceKind.HOSPITAL,
        yvelines,
    )
    assert_accessible(coord)
    loan_url = f"{url}/prets/{loan.pk}/"

    # The fleet team finds it first in the list, without the pupil's name, and assigns a kit.
    parc = new_page()
    sign_in(parc, asgi_server, fleet)
    parc.wait_for_url(f"{url}/")
    parc.get_by_role("link", name="Mises à disposition").click()
    parc.wait_for_url(f"{url}/prets/")
    assert_accessible(parc)
    first_row = parc.locator("table.data tbody tr").first
    expect(first_row).to_contain_text("Demandé")
    assert "Maëlys" not in parc.content()
    first_row.get_by_role("link", name=f"Mise à disposition n° {loan.pk}").click()
    parc.wait_for_url(loan_url)
    assert "Maëlys" not in parc.content()
    assert_accessible(parc)
    # The kit is chosen and assigned by keyboard alone.
    tab_to(parc, "id_kit")
    parc.keyboard.press("ArrowDown")
    assert parc.locator("#id_kit option:checked").inner_text() == "CC-G3-0500 (3e génération)"
    parc.keyboard.press("Tab")
    parc.keyboard.press("Enter")
    expect(parc.get_by_role("status")).to_contain_text("Le cartable CC-G3-0500 est attribué")
    assert_accessible(parc)
    parc.get_by_role("button", name="Noter le cartable CC-G3-0500 expédié").click()
    expect(parc.get_by_role("status")).to_contain_text("noté expédié")
    assert_accessible(parc)

    # The teacher confirms the class side, from their home page.
    prof = new_page()
    sign_in(prof, asgi_server, teacher)
    prof.wait_for_url(f"{url}/")
    prof.get_by_role("link", name="Confirmer l'installation en classe").click()
    prof.wait_for_url(loan_url)
    assert_accessible(prof)
    tab_to_button(prof, "Confirmer l'installation en classe")
    prof.keyboard.press("Enter")
    expect(prof.get_by_role("status")).to_contain_text("L'installation en classe est confirmée.")
    assert_accessible(prof)

    # The coordinator confirms the pupil side, extends (a wrong date first), then ends.
    coord.goto(loan_url)
    coord.get_by_role("button", name="Confirmer l'installation chez l'élève").click()
    expect(coord.get_by_role("status")).to_contain_text("la mise à disposition est en cours")
    assert_accessible(coord)
    coord.get_by_label("Nouvelle fin prévue").fill(today.isoformat())
    coord.get_by_role("button", name="Prolonger la mise à disposition").click()
    expect(coord.get_by_role("alert")).to_contain_text("après la fin prévue actuelle")
    assert_accessible(coord)
    later = today + timedelta(days=60)
    coord.get_by_label("Nouvelle fin prévue").fill(later.isoformat())
    coord.get_by_role("button", name="Prolonger la mise à disposition").click()
    expect(coord.get_by_role("status")).to_contain_text("La fin prévue est reportée")
    coord.get_by_role("link", name="Terminer la mise à disposition…").click()
    coord.wait_for_url(f"{loan_url}terminer/")
    assert_accessible(coord)
    coord.get_by_role("button", name="Oui, terminer la mise à disposition").click()
    expect(coord.get_by_role("status")).to_contain_text("attendu en retour")
    assert_accessible(coord)
    coord.get_by_role("link", name="Toutes les mises à disposition").click()
    expect(coord.locator("table.data")).to_contain_text("Maëlys")  # hers to see
    assert_accessible(coord)

    # The fleet team records the kit's return, for repair.
    parc.goto(loan_url)
    tab_to(parc, "id_retour-needs_repair")  # by keyboard alone too
    parc.keyboard.press("Space")
    tab_to_button(parc, "Enregistrer le retour du cartable CC-G3-0500")
    parc.keyboard.press("Enter")
    expect(parc.get_by_role("status")).to_contain_text("il est en réparation")
    assert_accessible(parc)

    loan.refresh_from_db()
    kit = Kit.objects.get(code="CC-G3-0500")
    assert (loan.status, loan.ends_on, kit.status) == (
        Loan.Status.RETURNED,
        later,
        Kit.Status.IN_REPAIR,
    )
    K = LoanEvent.Kind
    assert list(loan.events.values_list("kind", "by__username")) == [
        (K.REQUESTED, "coordo.78"),
        (K.ASSIGNED, "parc"),
        (K.SHIPPED, "parc"),
        (K.CLASS_INSTALLED, "prof.5e"),
        (K.PUPIL_INSTALLED, "coordo.78"),
        (K.EXTENDED, "coordo.78"),
        (K.ENDED, "coordo.78"),
        (K.RETURNED, "parc"),
    ]
