"""The demo: every kind of person has an account, and there is something to look at."""

from __future__ import annotations

import io
import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from cartable.core.demo import demo_setup
from cartable.fleet.models import Device, Kit, Loan
from cartable.organisation.models import Role, RoleGrant

from ..conftest import force_login


def test_the_demo_has_a_person_for_each_steering_role_and_is_idempotent(db):
    first = demo_setup()
    second = demo_setup()
    assert set(second.people) == {
        Role.DEPARTMENT.label,
        Role.ACADEMY.label,
        Role.NATIONAL.label,
        Role.FLEET.label,
        Role.DPO.label,
    }
    # Fresh passwords at every run, and nothing created twice.
    assert first.people[Role.FLEET.label][1] != second.people[Role.FLEET.label][1]
    assert RoleGrant.objects.filter(role=Role.DEPARTMENT).count() == 1
    assert Kit.objects.filter(code__startswith="DEMO-").count() == 3
    assert Device.objects.filter(kit__code="DEMO-001").count() == 5
    assert Loan.objects.filter(status=Loan.Status.REQUESTED).count() == 1
    users = get_user_model().objects
    for email, password in second.people.values():
        assert users.get(email=email).check_password(password)


def test_the_demo_people_find_their_pages(db):
    demo = demo_setup()
    users = get_user_model().objects
    coordinator = users.get(email=demo.people[Role.DEPARTMENT.label][0])
    page = force_login(Client(), coordinator).get("/prets/").content.decode()
    assert "Noah" in page  # the request waiting for a kit, with the name for the coordinator
    fleet = users.get(email=demo.people[Role.FLEET.label][0])
    register = force_login(Client(), fleet).get("/parc/cartables/").content.decode()
    assert "DEMO-002" in register and "DEMO-003" in register
    loans = force_login(Client(), fleet).get("/prets/").content.decode()
    assert "Noah" not in loans  # the fleet team never sees a pupil's name
    dane = users.get(email=demo.people[Role.ACADEMY.label][0])
    assert force_login(Client(), dane).get("/parc/").status_code == 200


def test_the_demo_prints_every_account(db):
    out = io.StringIO()
    call_command("demo", "--json", stdout=out)
    links = json.loads(out.getvalue())
    assert {p["role"] for p in links["people"]} >= {Role.FLEET.label, Role.DPO.label}
    assert all(p["email"] and p["password"] for p in links["people"])
