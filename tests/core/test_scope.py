"""The scope parameters (``academie``, ``departement``) of every page, file and API answer
that takes them, through the one resolver (``cartable.core.scope``): a value that cannot be a
code is refused in French (400, 422 in the API) before it reaches the database, on SQLite as
on PostgreSQL; a code outside one's rights stays a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from cartable.core.scope import BAD_ACADEMY, BAD_DEPARTMENT, ScopeCodes, ScopeRefused, scope_codes
from cartable.organisation.services import academies_load

from ..conftest import force_login


@pytest.fixture(autouse=True)
def _tree(db):
    # A transactional test run before this module flushes the tree its migration loaded.
    academies_load()


# The addresses that take a scope (the issue counted twelve), and who may open them.
FLEET_PAGES = ["/parc/"] + [
    f"/parc/registre/{kind}.{fmt}"
    for kind in ("cartables", "prets")
    for fmt in ("csv", "ods", "xlsx")
]
EVALUATION_PAGES = ["/evaluation/", "/evaluation/rapport.pdf"] + [
    f"/evaluation/donnees.{fmt}" for fmt in ("csv", "ods", "xlsx")
]
API = "/api/evaluation/indicators"
SCOPED = [(path, "fleet") for path in FLEET_PAGES] + [
    (path, "ministry") for path in EVALUATION_PAGES + [API]
]
BAD = [
    ("departement", "\x00", None),
    ("academie", "\x00", None),
    ("departement", "7" * 5000, BAD_DEPARTMENT),
    ("academie", "'; DROP TABLE", BAD_ACADEMY),
]
MORE_BAD = [
    ("departement", "78\x00", None),
    ("departement", "ZZZ", BAD_DEPARTMENT),
    ("academie", "2A", BAD_ACADEMY),
    ("academie", "0" * 200_000, BAD_ACADEMY),
]
RENDERED = [("/parc/", "fleet"), ("/evaluation/", "ministry"), (API, "ministry")]


@pytest.mark.parametrize(
    ("path", "who", "name", "value", "message"),
    [(*where, *bad) for where in SCOPED for bad in BAD]
    + [(*where, *bad) for where in RENDERED for bad in MORE_BAD],
)
def test_a_value_that_cannot_be_a_code_is_refused_in_french(
    db, department, request, path, who, name, value, message
):
    client = force_login(Client(), request.getfixturevalue(who))
    response = client.get(path, {name: value})
    if path == API and "\x00" not in value:
        assert response.status_code == 422
        body = response.json()
        assert body["errors"][0]["field"] == name
        assert body["errors"][0]["message"] == message
        return
    assert response.status_code == 400
    if path == API:  # a NUL: refused before the API, in its JSON shape
        assert "Caractère nul" in response.json()["message"]
        return
    text = response.content.decode()
    assert ("Caractère nul" if message is None else message.replace("'", "&#x27;")) in text
    assert '<html lang="fr">' in text


@pytest.mark.parametrize(("path", "who"), RENDERED)
def test_good_codes_still_work_and_foreign_ones_are_404(db, department, request, path, who):
    client = force_login(Client(), request.getfixturevalue(who))
    assert client.get(path, {"departement": "078"}).status_code == 200
    assert client.get(path, {"academie": "25"}).status_code == 200
    assert client.get(path, {"departement": "2A"}).status_code == 200
    # A code of the right shape that names nothing: not found, as before.
    assert client.get(path, {"departement": "989"}).status_code == 404


def test_a_coordinator_outside_their_departement_still_gets_404(coordinator, department):
    client = force_login(Client(), coordinator)
    assert client.get("/evaluation/", {"departement": "91"}).status_code == 404
    assert client.get("/evaluation/", {"departement": "78"}).status_code == 200


def test_scope_codes_normalise_and_refuse():
    assert scope_codes({"academie": " 4 ", "departement": ""}) == ScopeCodes("04", None)
    assert scope_codes({"departement": "02a"}) == ScopeCodes(None, "2A")
    assert scope_codes({"departement": "078"}) == ScopeCodes(None, "78")
    assert scope_codes({}) == ScopeCodes(None, None)
    for bad in ("\x00", "1234", "A", "7 8", "٧٨"):
        with pytest.raises(ScopeRefused):
            scope_codes({"departement": bad})
