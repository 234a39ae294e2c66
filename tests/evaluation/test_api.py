"""``GET /api/evaluation/indicators``: the transmission to the ministry, as its users get it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema_rs
import pytest

import cartable.evaluation
from cartable.live.models import LiveSession

URL = "/api/evaluation/indicators"
SCHEMA = json.loads(
    (Path(cartable.evaluation.__file__).parent / "transmission.schema.json").read_text("utf-8")
)


def valid(doc: dict) -> dict:
    jsonschema_rs.validator_for(SCHEMA).validate(doc)
    return doc


def test_the_schema_refuses_an_unsuppressed_small_count(review_data, review_people, signed_in):
    doc = signed_in(review_people.ministry).get(URL, {"annee": "2025-2026"}).json()
    valid(doc)
    doc["prets"]["termines"] = 4
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validator_for(SCHEMA).validate(doc)


def test_the_ministry_gets_the_national_figures(review_data, review_people, signed_in):
    response = signed_in(review_people.ministry).get(URL, {"annee": "2025-2026"})
    assert response.status_code == 200
    doc = valid(response.json())
    assert doc["annee_scolaire"] == "2025-2026"
    assert doc["periode"] == {"debut": "2025-09-01", "fin": "2026-08-31"}
    assert doc["perimetre"] == {"niveau": "national", "academie": None, "departement": None}
    assert doc["donnees"] is True and doc["message"] is None
    assert doc["prets"] == {"demandes": 8, "demarres": 5, "actifs": 5, "termines": "< 5"}
    assert doc["cartables"]["total"] == 7
    assert doc["cartables"]["par_generation"] == {"G3": 6, "V5": "< 5"}
    assert doc["eleves"]["total"] == "< 5"
    assert doc["eleves"]["par_niveau"]["maternelle"] == 0
    assert doc["usage"]["seances"] == 8
    assert doc["usage"]["duree_mediane_seance_min"] == 47.5
    assert doc["usage"]["heures_en_direct"] == 5.2
    assert doc["delai_premiere_seance"]["mediane_jours"] == 14.1
    assert doc["connexion"]["seances_mesurees"] == 6
    assert doc["connexion"]["part_bonne"] == 0.5
    assert doc["connexion"]["part_relayee"] == pytest.approx(0.333)
    assert doc["hors_ligne"] == {"cartables": "< 5", "appareils": "< 5"}
    # No pupil's name anywhere.
    assert "Prénom" not in response.content.decode()


def test_a_dane_gets_their_academy_and_its_departments(review_data, review_people, signed_in):
    client = signed_in(review_people.dane_versailles)
    doc = valid(client.get(URL, {"annee": "2025-2026"}).json())
    assert doc["perimetre"]["niveau"] == "academie"
    assert doc["perimetre"]["academie"] == {"code": "25", "nom": "Versailles"}
    assert doc["prets"]["demandes"] == 7
    assert doc["usage"]["seances"] == 7
    doc = valid(client.get(URL, {"annee": "2025-2026", "departement": "78"}).json())
    assert doc["perimetre"]["niveau"] == "departement"
    assert doc["perimetre"]["departement"]["code"] == "78"
    assert doc["prets"]["demandes"] == 5
    assert doc["usage"]["seances"] == 5


def test_a_dane_of_nice_sees_nothing_of_versailles(review_data, review_people, signed_in):
    client = signed_in(review_people.dane_nice)
    for params in ({"academie": "25"}, {"departement": "78"}, {"departement": "91"}):
        response = client.get(URL, {"annee": "2025-2026", **params})
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "not_found"
        assert "périmètre" in body["message"]
        assert "Versailles" not in response.content.decode()
    # Their own académie: one loan, so every count there is hidden.
    doc = valid(client.get(URL, {"annee": "2025-2026"}).json())
    assert doc["perimetre"]["academie"]["code"] == "23"
    assert doc["prets"]["demandes"] == "< 5"
    assert doc["usage"]["heures_en_direct"] == "< 5"
    assert doc["connexion"]["part_bonne"] is None


def test_national_figures_are_refused_below_the_ministry(review_data, review_people, signed_in):
    # A coordinator asking for the académie: 404; their département: their figures.
    client = signed_in(review_people.coordinator_78)
    assert client.get(URL, {"academie": "25"}).status_code == 404
    doc = valid(client.get(URL, {"annee": "2025-2026"}).json())
    assert doc["perimetre"]["departement"]["code"] == "78"


@pytest.mark.parametrize("who", ["teacher", "fleet", "outsider"])
def test_people_without_figures_get_404(review_data, review_people, signed_in, who):
    response = signed_in(getattr(review_people, who)).get(URL, {"annee": "2025-2026"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_gets_401_in_french(review_data, client):
    response = client.get(URL, {"annee": "2025-2026"})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert body["message"].startswith("Connectez-vous")
    assert "WWW-Authenticate" not in response


def test_the_second_factor_is_asked_first(review_data, review_people, client):
    # The fleet team's accounts need a TOTP code: signed in with the password only.
    client.force_login(review_people.fleet)
    response = client.get(URL, {"annee": "2025-2026"})
    assert response.status_code == 403
    assert "code de vérification" in response.json()["detail"]


@pytest.mark.parametrize("annee", ["2025", "2025-2027", "deux-mille", "1999-2000", "2025-2026x"])
def test_a_bad_year_is_refused_in_french(review_data, review_people, signed_in, annee):
    response = signed_in(review_people.ministry).get(URL, {"annee": annee})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"field": "annee", "message": "Année scolaire attendue sous la forme 2025-2026."}
    ]


def test_a_bad_format_is_refused(review_data, review_people, signed_in):
    response = signed_in(review_people.ministry).get(URL, {"format": "xml"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"


def test_a_period_without_data(review_data, review_people, signed_in):
    count = LiveSession.objects.count()
    response = signed_in(review_people.ministry).get(URL, {"annee": "2030-2031"})
    assert response.status_code == 200
    doc = valid(response.json())
    assert doc["donnees"] is False
    assert doc["message"] == "Aucune donnée pour cette période."
    assert doc["prets"] == {"demandes": 0, "demarres": 0, "actifs": 0, "termines": 0}
    assert doc["usage"]["duree_mediane_seance_min"] is None
    assert doc["connexion"]["part_bonne"] is None
    assert LiveSession.objects.count() == count  # nothing written


def test_the_csv_holds_the_same_figures(review_data, review_people, signed_in):
    response = signed_in(review_people.ministry).get(URL, {"annee": "2025-2026", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "indicateurs_2025-2026_national.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode()), delimiter=";"))
    assert rows[0] == [
        "annee_scolaire",
        "debut",
        "fin",
        "niveau",
        "academie",
        "departement",
        "indicateur",
        "valeur",
    ]
    values = {row[6]: row[7] for row in rows[1:]}
    assert values["prets.demandes"] == "8"
    assert values["prets.termines"] == "< 5"
    assert values["usage.duree_mediane_seance_min"] == "47.5"


def test_the_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/evaluation/indicators" in schema["paths"]
