"""The fleet register's pages: kits, statuses, devices and enrolment labels, for the fleet
team only. Everyone else signed in gets 404, an anonymous visitor the sign-in page."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cartable.fleet import services
from cartable.fleet.models import Device, EnrolmentCode, Kit, KitStatusChange, Loan
from cartable.fleet.views_register import kit_manage_context, kit_page_url
from cartable.organisation.access import Actor

from ..conftest import force_login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user) -> Client:
    client = Client()
    force_login(client, user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def make_kit(code: str = "CC-0001", **fields) -> Kit:
    return services.kit_create(code=code, generation=fields.pop("generation", Kit.Generation.G3))


# Who may open the register ------------------------------------------------------------------


def addresses(kit: Kit, device: Device) -> list[tuple[str, str, dict]]:
    """(method, path, data) of every page of the register."""
    return [
        ("get", "/parc/cartables/", {}),
        ("get", "/parc/cartables/nouveau/", {}),
        ("post", "/parc/cartables/nouveau/", {"code": "CC-9999", "generation": "G3"}),
        ("get", f"/parc/cartables/{kit.pk}/statut/", {}),
        ("post", f"/parc/cartables/{kit.pk}/statut/", {"to": "in_repair", "note": ""}),
        ("get", "/parc/appareils/nouveau/", {}),
        ("post", "/parc/appareils/nouveau/", {"kind": "class_box", "serial": "SN-NEW"}),
        ("get", f"/parc/appareils/{device.pk}/", {}),
        ("post", f"/parc/appareils/{device.pk}/", {"kind": "router_4g", "kit": ""}),
        ("get", "/parc/appareils/import/", {}),
        ("post", "/parc/appareils/import/", {}),
        ("get", f"/parc/appareils/{device.pk}/etiquette/", {}),
        ("post", f"/parc/appareils/{device.pk}/etiquette/", {}),
    ]


@pytest.fixture
def register(loan):
    kit = make_kit()
    device = services.device_create(kind="class_box", serial="SN-0001", kit=kit)
    return kit, device


def unchanged_register(kit: Kit, device: Device) -> None:
    kit.refresh_from_db()
    device.refresh_from_db()
    assert kit.status == Kit.Status.IN_STOCK
    assert KitStatusChange.objects.filter(kit=kit).count() == 1  # its entry only
    assert device.kind == "class_box"
    assert not Kit.objects.filter(code="CC-9999").exists()
    assert not Device.objects.filter(serial="SN-NEW").exists()
    assert not EnrolmentCode.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in_everywhere(register):
    kit, device = register
    client = Client()
    for method, path, data in addresses(kit, device):
        response = getattr(client, method)(path, data)
        assert response.status_code == 302, (method, path)
        assert response.url == f"/connexion/?next={path}", (method, path)
    unchanged_register(kit, device)


@pytest.mark.parametrize("who", ["teacher", "coordinator", "dane", "ministry", "outsider"])
def test_people_outside_the_fleet_team_do_not_find_the_register(request, register, who):
    kit, device = register
    client = signed_in(request.getfixturevalue(who))
    for method, path, data in addresses(kit, device):
        assert getattr(client, method)(path, data).status_code == 404, (who, method, path)
    unchanged_register(kit, device)


def test_unknown_kits_and_devices_are_not_found(fleet):
    client = signed_in(fleet)
    for path in (
        "/parc/cartables/999999/statut/",
        "/parc/appareils/999999/",
        "/parc/appareils/999999/etiquette/",
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(path, {}).status_code == 404, path


def test_the_home_page_links_the_register_for_the_fleet_team_only(fleet, teacher):
    assert "Registre du parc" in text(signed_in(fleet).get("/"))
    assert "Registre du parc" not in text(signed_in(teacher).get("/"))


# The list of kits ---------------------------------------------------------------------------


@pytest.fixture
def fleet_register(loan, department):
    """The conftest's kit on loan (two devices, one online), two kits in stock (a G3, a V5)
    and a retired one."""
    lent = loan
    school = lent.school_class.school
    school.commune = "Versailles"
    school.save(update_fields=["commune"])
    now = timezone.now()
    Device.objects.create(kit=lent.kit, kind="class_box", serial="LENT-1", last_seen_at=now)
    Device.objects.create(
        kit=lent.kit, kind="pupil_tablet", serial="LENT-2", last_seen_at=now - timedelta(hours=5)
    )
    stock_g3 = make_kit("STOCK-G3")
    stock_v5 = services.kit_create(code="STOCK-V5", generation=Kit.Generation.V5)
    retired = make_kit("OLD-1")
    services.kit_set_status(kit=retired, to=Kit.Status.RETIRED)
    return {"lent": lent, "g3": stock_g3, "v5": stock_v5, "retired": retired}


def kit_codes(response) -> list[str]:
    return [row["kit"].code for row in response.context["rows"]]


def test_the_fleet_team_sees_every_kit_with_its_devices_and_loan_without_names(
    fleet, fleet_register
):
    response = signed_in(fleet).get("/parc/cartables/")
    assert response.status_code == 200
    lent = fleet_register["lent"]
    assert kit_codes(response) == sorted([lent.kit.code, "OLD-1", "STOCK-G3", "STOCK-V5"])
    row = next(r for r in response.context["rows"] if r["kit"] == lent.kit)
    assert (row["kit"].devices_count, row["kit"].devices_online) == (2, 1)
    assert row["loan"] == lent
    page = text(response)
    assert f"{lent.school_class.school.name}, Versailles (78) — Domicile, en cours" in page
    assert lent.pupil.display_name not in page
    assert f'href="{kit_page_url(lent.kit)}"' in page
    counts = {s["value"]: s["count"] for s in response.context["by_status"]}
    assert counts["in_stock"] == 2 and counts["on_loan"] == 1 and counts["retired"] == 1
    assert counts["in_repair"] == 0 and response.context["total"] == 4


def test_the_list_filters_by_status_and_generation(fleet, fleet_register):
    client = signed_in(fleet)
    assert kit_codes(client.get("/parc/cartables/?statut=in_stock")) == ["STOCK-G3", "STOCK-V5"]
    both = client.get("/parc/cartables/?statut=in_stock&generation=V5")
    assert kit_codes(both) == ["STOCK-V5"]
    # The counts follow the generation: by status, among the V5 kits.
    counts = {s["value"]: s["count"] for s in both.context["by_status"]}
    assert counts["in_stock"] == 1 and counts["on_loan"] == 0 and both.context["total"] == 1
    assert "Aucun cartable ne correspond à ces filtres" in text(
        client.get("/parc/cartables/?statut=in_repair")
    )
    # A value that is not a status shows the whole register rather than an error.
    assert len(kit_codes(client.get("/parc/cartables/?statut=perdu"))) == 4


def test_the_list_is_paginated(fleet, db, settings, monkeypatch):
    from cartable.fleet import views_register

    monkeypatch.setattr(views_register, "KITS_PER_PAGE", 2)
    for n in range(5):
        make_kit(f"P-{n}")
    client = signed_in(fleet)
    first = client.get("/parc/cartables/?statut=in_stock")
    assert kit_codes(first) == ["P-0", "P-1"]
    assert "statut=in_stock&page=2" in text(first)
    assert kit_codes(client.get("/parc/cartables/?statut=in_stock&page=3")) == ["P-4"]


def test_devices_outside_any_kit_are_listed(fleet, db):
    device = services.device_create(kind="pupil_tablet", serial="SPARE-1")
    page = text(signed_in(fleet).get("/parc/cartables/"))
    assert "SPARE-1" in page
    assert f"/parc/appareils/{device.pk}/etiquette/" in page


# Kits: creation and status --------------------------------------------------------------------


def test_the_fleet_team_records_a_kit_in_stock(fleet):
    response = signed_in(fleet).post(
        "/parc/cartables/nouveau/", {"code": " CC-G3-0142 ", "generation": "G3"}
    )
    kit = Kit.objects.get(code="CC-G3-0142")
    assert response.status_code == 302 and response.url == kit_page_url(kit)
    assert kit.status == Kit.Status.IN_STOCK
    entry = KitStatusChange.objects.get(kit=kit)
    assert (entry.to_status, entry.by) == (Kit.Status.IN_STOCK, fleet)


def test_a_kit_code_already_used_is_refused(fleet):
    make_kit("CC-0007")
    response = signed_in(fleet).post(
        "/parc/cartables/nouveau/", {"code": "cc-0007", "generation": "V5"}
    )
    assert response.status_code == 400
    assert "Un cartable porte déjà la référence « cc-0007 »." in text(response)
    assert Kit.objects.count() == 1


def test_kit_form_errors_are_in_french(fleet):
    response = signed_in(fleet).post(
        "/parc/cartables/nouveau/", {"code": "CC 01", "generation": "G9"}
    )
    assert response.status_code == 400
    page = text(response)
    assert "La référence ne peut contenir que des lettres sans accent" in page
    assert "Choisissez une génération de la liste." in page
    assert not Kit.objects.exists()


def test_the_status_form_offers_only_the_statuses_the_kit_may_go_to(fleet):
    kit = make_kit()
    response = signed_in(fleet).get(f"/parc/cartables/{kit.pk}/statut/")
    offered = re.findall(r'<option value="(\w+)"', response.content.decode())
    # Reserved is also allowed from stock, but only as a step of a loan, not by hand.
    assert offered == ["in_repair", "retired"]
    services.kit_set_status(kit=kit, to=Kit.Status.RETIRED)
    page = text(signed_in(fleet).get(f"/parc/cartables/{kit.pk}/statut/"))
    assert "Un cartable réformé ne change plus de statut." in page
    assert "Changer le statut" not in page


def test_the_fleet_team_changes_a_status_with_a_note(fleet):
    kit = make_kit()
    response = signed_in(fleet).post(
        f"/parc/cartables/{kit.pk}/statut/", {"to": "in_repair", "note": "  Écran  fêlé "}
    )
    assert response.status_code == 302 and response.url == kit_page_url(kit)
    kit.refresh_from_db()
    assert kit.status == Kit.Status.IN_REPAIR
    change = KitStatusChange.objects.filter(kit=kit).last()
    assert (change.from_status, change.to_status) == ("in_stock", "in_repair")
    assert (change.by, change.note) == (fleet, "Écran fêlé")
    assert kit.status_changed_at == change.at


def test_an_impossible_change_is_refused_with_its_reason_and_changes_nothing(fleet):
    kit = make_kit()
    services.kit_set_status(kit=kit, to=Kit.Status.RETIRED)
    before = KitStatusChange.objects.filter(kit=kit).count()
    response = signed_in(fleet).post(f"/parc/cartables/{kit.pk}/statut/", {"to": "on_loan"})
    assert response.status_code == 400
    assert "Un cartable « réformé » ne peut pas passer à « en prêt »." in text(response)
    kit.refresh_from_db()
    assert kit.status == Kit.Status.RETIRED
    assert KitStatusChange.objects.filter(kit=kit).count() == before


def test_a_kit_held_by_a_loan_cannot_go_back_to_stock_by_hand(fleet, loan, department):
    kit = make_kit()
    request = Loan.objects.create(
        pupil=loan.pupil,
        school_class=loan.school_class,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
    )
    services.loan_assign(loan=request, kit=kit)
    response = signed_in(fleet).post(f"/parc/cartables/{kit.pk}/statut/", {"to": "in_stock"})
    assert response.status_code == 400
    assert "attribué à une mise à disposition en cours" in text(response)
    kit.refresh_from_db()
    assert kit.status == Kit.Status.RESERVED


def test_an_unknown_status_or_nothing_is_refused(fleet):
    kit = make_kit()
    client = signed_in(fleet)
    for data, message in (
        ({"to": "lost"}, "Choisissez un statut de la liste."),
        ({}, "Choisissez le nouveau statut."),
    ):
        response = client.post(f"/parc/cartables/{kit.pk}/statut/", data)
        assert response.status_code == 400
        assert message in text(response)
    kit.refresh_from_db()
    assert kit.status == Kit.Status.IN_STOCK


def test_the_service_allows_the_table_and_refuses_the_rest(db, loan):
    kit = make_kit()
    for to in ("in_repair", "in_stock", "in_repair"):
        services.kit_set_status(kit=kit, to=to)
    with pytest.raises(services.FleetError, match="ne peut pas passer à « réservé »"):
        services.kit_set_status(kit=kit, to=Kit.Status.RESERVED)
    with pytest.raises(services.FleetError, match="Statut inconnu"):
        services.kit_set_status(kit=kit, to="lost")
    services.kit_set_status(kit=kit, to=Kit.Status.IN_STOCK)
    # Allowed by the table, but a step of a loan: never set by hand.
    with pytest.raises(services.FleetError, match="étape de mise à disposition"):
        services.kit_set_status(kit=kit, to=Kit.Status.RESERVED)
    services.kit_set_status(kit=kit, to=Kit.Status.RETIRED)
    with pytest.raises(services.FleetError, match="ne peut pas passer à « en stock »"):
        services.kit_set_status(kit=kit, to=Kit.Status.IN_STOCK)
    kit.refresh_from_db()
    assert kit.status == Kit.Status.RETIRED
    assert [c.to_status for c in kit.status_changes.all()] == [
        "in_stock",
        "in_repair",
        "in_stock",
        "in_repair",
        "in_stock",
        "retired",
    ]
    # A kit on loan follows its loan's steps: nothing by hand, not even "returning".
    with pytest.raises(services.FleetError, match="attribué à une mise à disposition"):
        services.kit_set_status(kit=loan.kit, to=Kit.Status.RETURNING)


def test_the_manage_fragment_is_given_to_the_fleet_team_only(fleet, teacher):
    kit = make_kit()
    services.device_create(kind="class_box", serial="SN-F1", kit=kit)
    context = kit_manage_context(Actor(user=fleet), kit)
    assert context["kit_manage"]["kit"] == kit
    assert [d.serial for d in context["kit_manage"]["devices"]] == ["SN-F1"]
    assert kit_manage_context(Actor(user=teacher), kit) == {}


# Devices --------------------------------------------------------------------------------------


def test_the_fleet_team_adds_a_device_to_a_kit(fleet):
    kit = make_kit("CC-0042")
    client = signed_in(fleet)
    form = text(client.get(f"/parc/appareils/nouveau/?kit={kit.pk}"))
    assert 'value="CC-0042"' in form  # the kit is preselected
    response = client.post(
        "/parc/appareils/nouveau/",
        {
            "kind": "teacher_tablet",
            "serial": "TAB-77",
            "software_version": "5.2.1",
            "kit": "cc-0042",
        },
    )
    assert response.status_code == 302 and response.url == kit_page_url(kit)
    device = Device.objects.get(serial="TAB-77")
    assert (device.kit, device.kind, device.software_version) == (kit, "teacher_tablet", "5.2.1")


def test_a_device_in_no_kit_goes_to_its_own_page(fleet):
    response = signed_in(fleet).post(
        "/parc/appareils/nouveau/", {"kind": "router_4g", "serial": "R-1"}
    )
    device = Device.objects.get(serial="R-1")
    assert device.kit is None
    assert response.url == f"/parc/appareils/{device.pk}/"


def test_a_serial_already_recorded_is_refused_whatever_its_case(fleet):
    services.device_create(kind="class_box", serial="AB-12")
    response = signed_in(fleet).post(
        "/parc/appareils/nouveau/", {"kind": "router_4g", "serial": "ab-12"}
    )
    assert response.status_code == 400
    assert "Un appareil porte déjà le numéro de série « ab-12 »." in text(response)
    assert Device.objects.count() == 1
    with pytest.raises(services.FleetError):
        services.device_create(kind="router_4g", serial=" AB-12 ")


def test_device_errors_are_in_french(fleet):
    retired = make_kit("OLD")
    services.kit_set_status(kit=retired, to=Kit.Status.RETIRED)
    client = signed_in(fleet)
    response = client.post(
        "/parc/appareils/nouveau/", {"kind": "", "serial": "SN 1", "kit": "NOPE"}
    )
    page = text(response)
    assert response.status_code == 400
    assert "Choisissez le type d'appareil." in page
    assert "Le numéro de série ne peut contenir que des lettres sans accent" in page
    assert "Aucun cartable ne porte la référence « NOPE »." in page
    response = client.post(
        "/parc/appareils/nouveau/", {"kind": "class_box", "serial": "SN-1", "kit": "old"}
    )
    assert response.status_code == 400
    assert "Le cartable OLD est réformé" in text(response)
    assert not Device.objects.exists()


def test_the_fleet_team_edits_a_device_but_never_its_serial(fleet):
    first, second = make_kit("K-1"), make_kit("K-2")
    device = services.device_create(kind="class_box", serial="SN-5", kit=first)
    client = signed_in(fleet)
    assert "SN-5" in text(client.get(f"/parc/appareils/{device.pk}/"))
    response = client.post(
        f"/parc/appareils/{device.pk}/",
        {"kind": "class_camera", "serial": "CHANGED", "software_version": "6.0", "kit": "K-2"},
    )
    assert response.status_code == 302 and response.url == kit_page_url(second)
    device.refresh_from_db()
    assert (device.serial, device.kind, device.software_version, device.kit) == (
        "SN-5",
        "class_camera",
        "6.0",
        second,
    )


# Enrolment labels -----------------------------------------------------------------------------

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")


def test_an_enrolment_code_is_shown_once_and_stored_hashed(fleet):
    kit = make_kit("CC-LBL")
    device = services.device_create(kind="board_camera", serial="CAM-9", kit=kit)
    client = signed_in(fleet)
    before = text(client.get(f"/parc/appareils/{device.pk}/etiquette/"))
    assert not CODE.search(before) and "<svg" not in before

    response = client.post(f"/parc/appareils/{device.pk}/etiquette/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    code = CODE.search(page).group()
    assert "CAM-9" in page and "CC-LBL" in page
    assert "<svg" in page and "Code QR d'enrôlement de l'appareil CAM-9" in page

    stored = EnrolmentCode.objects.get(device=device)
    assert stored.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert stored.created_by == fleet and stored.used_at is None
    assert stored.expires_at > timezone.now() + timedelta(days=300)
    assert code.replace("-", "") not in stored.code_hash

    again = text(client.get(f"/parc/appareils/{device.pk}/etiquette/"))
    assert code not in again and not CODE.search(again)
    assert "n'a pas encore servi" in again


def test_a_new_label_cancels_the_previous_unused_code(fleet, db):
    device = services.device_create(kind="class_box", serial="BOX-3")
    client = signed_in(fleet)
    first = CODE.search(text(client.post(f"/parc/appareils/{device.pk}/etiquette/"))).group()
    second = CODE.search(text(client.post(f"/parc/appareils/{device.pk}/etiquette/"))).group()
    assert first != second
    now = timezone.now()
    live = EnrolmentCode.objects.filter(device=device, used_at__isnull=True, expires_at__gt=now)
    assert list(live.values_list("code_hash", flat=True)) == [services.enrolment_code_hash(second)]
    assert EnrolmentCode.objects.filter(device=device).count() == 2
