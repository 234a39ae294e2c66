"""Every page and endpoint, against every role, with the status each one must get.

The table lists every URL pattern of the site (found with ``get_resolver``, recursively):
a route without an entry fails ``test_every_route_has_an_entry``, so a new view cannot be
added without saying who may open it. Objects in the addresses are the loan's (its class,
its pupil): 200 for those whose scope holds them, 404 for everyone else signed in, and a
sign-in redirect (302) for an anonymous visitor on pages for people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cartable.organisation import services
from cartable.organisation.models import Role

from ..conftest import force_login

ROLES = [
    "anonymous",
    "no_role",
    "teacher",
    "coordinator",
    "other_coordinator",
    "dane",
    "ministry",
    "school_head",
    "hospital_staff",
    "family",
    "fleet",
    "dpo",
    "administrator",
]
FIXTURES = {"no_role": "outsider"}
PEOPLE = [role for role in ROLES if role != "anonymous"]


def all_routes(resolver=None, prefix: str = "") -> list[str]:
    """Every URL pattern of the site, as its full route text (``station/<int:loan_id>/``)."""
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(all_routes(pattern, route))
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


@dataclass(frozen=True)
class Entry:
    path: Callable[[dict], str]
    expected: dict[str, int]


def statuses(default: int, anonymous: int | None = None, **overrides: int) -> dict[str, int]:
    table = {role: default for role in PEOPLE}
    table["anonymous"] = default if anonymous is None else anonymous
    table.update(overrides)
    return table


def fixed(path: str) -> Callable[[dict], str]:
    return lambda world: path


SIGN_IN = 302


def _device(world) -> int:
    """The id of a device of the loan's kit (made the first time it is asked for)."""
    from cartable.fleet.models import Device

    kit = world["loan"].kit
    return Device.objects.get_or_create(
        serial=f"{kit.code}-BOX", defaults={"kit": kit, "kind": "class_box"}
    )[0].pk


def _work(world) -> int:
    """The id of a work handed out on the loan (a small photo, made the first time)."""
    from cartable.schoolwork.models import Work
    from cartable.schoolwork.services import work_create
    from tests.schoolwork.conftest import make_jpeg

    work = Work.objects.filter(loan=world["loan"]).first()
    if work is None:
        work = work_create(loan=world["loan"], kind="handed_out", title="Fiche", data=make_jpeg())
    return work.pk


# The second-factor pages send someone who needs no code (everyone here: none of these
# accounts is staff) back on their way; an anonymous visitor goes to sign in.
TABLE: dict[str, Entry] = {
    "": Entry(fixed("/"), statuses(200)),
    # The device API (cartable/fleet/api.py): devices only, with their Bearer token; a
    # person's session is no device (401). Enrolment and heartbeats are POST only.
    "api/": Entry(fixed("/api/"), statuses(404)),
    "api/openapi.json": Entry(fixed("/api/openapi.json"), statuses(200)),
    "api/devices/enrol": Entry(fixed("/api/devices/enrol"), statuses(405)),
    "api/devices/heartbeat": Entry(fixed("/api/devices/heartbeat"), statuses(405)),
    "api/devices/me": Entry(fixed("/api/devices/me"), statuses(401)),
    # A kit agent's command result, and the fleet page's command to it: POST only (who may
    # post them: tests/kit/test_enrol_heartbeat.py, tests/kit/test_fleet_kit_page.py).
    "api/devices/commands/<command_id>/result": Entry(
        fixed("/api/devices/commands/1/result"), statuses(405)
    ),
    "parc/appareils/<int:device_id>/commande/": Entry(
        lambda w: f"/parc/appareils/{_device(w)}/commande/", statuses(405)
    ),
    # The indicators for the ministry (cartable/evaluation/api.py): a person's session (an
    # anonymous visitor 401), figures of their widest scope; no figures to see: 404.
    "api/evaluation/indicators": Entry(
        fixed("/api/evaluation/indicators"),
        statuses(
            404, anonymous=401, coordinator=200, other_coordinator=200, dane=200, ministry=200
        ),
    ),
    # Accounts (cartable/accounts): open to all, or sending the signed-in on their way.
    "connexion/": Entry(fixed("/connexion/"), statuses(302, anonymous=200)),
    "deconnexion/": Entry(fixed("/deconnexion/"), statuses(405)),  # POST only
    "connexion/code/": Entry(fixed("/connexion/code/"), statuses(302)),
    "connexion/code/activer/": Entry(fixed("/connexion/code/activer/"), statuses(302)),
    "connexion/mot-de-passe-oublie/": Entry(
        fixed("/connexion/mot-de-passe-oublie/"), statuses(200)
    ),
    "connexion/mot-de-passe-oublie/envoye/": Entry(
        fixed("/connexion/mot-de-passe-oublie/envoye/"), statuses(200)
    ),
    "connexion/nouveau-mot-de-passe/<uidb64>/<token>/": Entry(
        fixed("/connexion/nouveau-mot-de-passe/MQ/pas-un-jeton/"), statuses(200)
    ),
    "connexion/nouveau-mot-de-passe/fait/": Entry(
        fixed("/connexion/nouveau-mot-de-passe/fait/"), statuses(200)
    ),
    # OpenID Connect is not configured in the tests: its pages say so or refuse.
    "connexion/oidc/": Entry(fixed("/connexion/oidc/"), statuses(404)),
    "connexion/oidc/retour/": Entry(fixed("/connexion/oidc/retour/"), statuses(404)),
    "connexion/oidc/refusee/": Entry(fixed("/connexion/oidc/refusee/"), statuses(403)),
    # The live link.
    "station/<int:loan_id>/": Entry(
        lambda w: f"/station/{w['loan'].pk}/", statuses(404, anonymous=SIGN_IN, teacher=200)
    ),
    "eleve/": Entry(fixed("/eleve/"), statuses(302)),  # no paired tablet: to the pairing page
    "appairer/": Entry(fixed("/appairer/"), statuses(200)),
    "prets/<int:loan_id>/appairage/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/appairage/",
        statuses(404, anonymous=SIGN_IN, teacher=200, coordinator=200),
    ),
    # The organisation.
    "organisation/classes/nouvelle/": Entry(
        fixed("/organisation/classes/nouvelle/"),
        statuses(404, anonymous=SIGN_IN, coordinator=200, other_coordinator=200),
    ),
    "organisation/classes/<int:class_id>/": Entry(
        lambda w: f"/organisation/classes/{w['loan'].school_class_id}/",
        statuses(404, anonymous=SIGN_IN, coordinator=200),
    ),
    "organisation/eleves/nouveau/": Entry(
        fixed("/organisation/eleves/nouveau/"),
        statuses(404, anonymous=SIGN_IN, coordinator=200, other_coordinator=200),
    ),
    "organisation/eleves/<int:pupil_id>/": Entry(
        lambda w: f"/organisation/eleves/{w['loan'].pupil_id}/",
        statuses(404, anonymous=SIGN_IN, coordinator=200),
    ),
    "organisation/invitations/nouvelle/": Entry(
        fixed("/organisation/invitations/nouvelle/"),
        statuses(
            404,
            anonymous=SIGN_IN,
            coordinator=200,
            other_coordinator=200,
            dane=200,
            administrator=200,
        ),
    ),
    # A valid invitation for someone else: everyone signed in is told it is not theirs.
    "invitation/<str:token>/": Entry(
        lambda w: f"/invitation/{w['invitation_token']}/", statuses(403, anonymous=200)
    ),
    "organisation/annuaire/": Entry(
        fixed("/organisation/annuaire/"), statuses(404, anonymous=SIGN_IN, administrator=200)
    ),
    # Loans (cartable/fleet/urls_loans.py). The loan here is running (active).
    "prets/": Entry(
        fixed("/prets/"),
        statuses(404, anonymous=SIGN_IN, coordinator=200, other_coordinator=200, fleet=200),
    ),
    "prets/demande/": Entry(
        fixed("/prets/demande/"),
        statuses(404, anonymous=SIGN_IN, coordinator=200, other_coordinator=200),
    ),
    "prets/<int:loan_id>/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/",
        statuses(
            404,
            anonymous=SIGN_IN,
            teacher=200,
            coordinator=200,
            school_head=200,
            hospital_staff=200,
            family=200,
            fleet=200,
        ),
    ),
    "prets/<int:loan_id>/terminer/": Entry(  # GET asks to confirm; POST ends
        lambda w: f"/prets/{w['loan'].pk}/terminer/",
        statuses(404, anonymous=SIGN_IN, coordinator=200, fleet=200),
    ),
    # The other steps are forms posted from the loan page (POST only).
    **{
        f"prets/<int:loan_id>/{step}/": Entry(
            lambda w, step=step: f"/prets/{w['loan'].pk}/{step}/", statuses(405)
        )
        for step in (
            "attribuer",
            "expedier",
            "installation-classe",
            "installation-eleve",
            "prolonger",
            "annuler",
            "retour",
        )
    },
    # Authorisations before the first lesson (cartable/consent).
    "prets/<int:loan_id>/autorisations/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/autorisations/",
        statuses(404, anonymous=SIGN_IN, coordinator=200),
    ),
    "prets/<int:loan_id>/autorisations/mon-accord/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/autorisations/mon-accord/",
        statuses(404, anonymous=SIGN_IN, teacher=200),
    ),
    # Privacy (cartable/privacy/urls.py): the data protection officer only; notices public.
    **{
        route: Entry(path, statuses(404, anonymous=SIGN_IN, dpo=200))
        for route, path in (
            ("confidentialite/", fixed("/confidentialite/")),
            ("confidentialite/registre/", fixed("/confidentialite/registre/")),
            ("confidentialite/journal/", fixed("/confidentialite/journal/")),
            ("confidentialite/droits/", fixed("/confidentialite/droits/")),
            (
                "confidentialite/droits/eleves/<int:pupil_id>/",
                lambda w: f"/confidentialite/droits/eleves/{w['loan'].pupil_id}/",
            ),
            (
                "confidentialite/droits/eleves/<int:pupil_id>/donnees.json",
                lambda w: f"/confidentialite/droits/eleves/{w['loan'].pupil_id}/donnees.json",
            ),
            (
                "confidentialite/droits/eleves/<int:pupil_id>/effacer/",
                lambda w: f"/confidentialite/droits/eleves/{w['loan'].pupil_id}/effacer/",
            ),
        )
    },
    "informations/familles/": Entry(fixed("/informations/familles/"), statuses(200)),
    "informations/eleves/": Entry(fixed("/informations/eleves/"), statuses(200)),
    # The source of the running version (GNU AGPL v3, section 13): for everyone.
    "code-source/": Entry(fixed("/code-source/"), statuses(200)),
    "code-source/cartable.tar.gz": Entry(fixed("/code-source/cartable.tar.gz"), statuses(200)),
    "code-source/licence.txt": Entry(fixed("/code-source/licence.txt"), statuses(200)),
    # The fleet register (cartable/fleet/urls_register.py): the fleet team only.
    **{
        route: Entry(path, statuses(404, anonymous=SIGN_IN, fleet=200))
        for route, path in (
            ("parc/cartables/", fixed("/parc/cartables/")),
            ("parc/cartables/nouveau/", fixed("/parc/cartables/nouveau/")),
            (
                "parc/cartables/<int:kit_id>/statut/",
                lambda w: f"/parc/cartables/{w['loan'].kit_id}/statut/",
            ),
            ("parc/appareils/nouveau/", fixed("/parc/appareils/nouveau/")),
            ("parc/appareils/import/", fixed("/parc/appareils/import/")),
            ("parc/appareils/<int:device_id>/", lambda w: f"/parc/appareils/{_device(w)}/"),
            (
                "parc/appareils/<int:device_id>/etiquette/",
                lambda w: f"/parc/appareils/{_device(w)}/etiquette/",
            ),
        )
    },
    # Reporting (cartable/fleet/urls_reports.py): who may follow kits (KIT_TRACK) in their
    # scope. The other coordinator (Essonne) has an overview of their own, not this kit.
    **{
        route: Entry(
            path,
            statuses(
                404,
                anonymous=SIGN_IN,
                fleet=200,
                ministry=200,
                dane=200,
                coordinator=200,
                other_coordinator=200,
            ),
        )
        for route, path in (
            ("parc/", fixed("/parc/")),
            (
                "^parc/registre/(?P<kind>cartables|prets)\\.(?P<fmt>csv|ods|xlsx)$",
                fixed("/parc/registre/prets.csv"),
            ),
        )
    },
    "parc/cartables/<int:kit_id>/": Entry(
        lambda w: f"/parc/cartables/{w['loan'].kit_id}/",
        statuses(404, anonymous=SIGN_IN, fleet=200, ministry=200, dane=200, coordinator=200),
    ),
    # The review report (cartable/evaluation/urls_report.py): who may see figures
    # (FIGURES_VIEW) in their scope: the ministry, the DANE, the départements' coordinators.
    **{
        route: Entry(
            fixed(path),
            statuses(
                404,
                anonymous=SIGN_IN,
                ministry=200,
                dane=200,
                coordinator=200,
                other_coordinator=200,
            ),
        )
        for route, path in (
            ("evaluation/", "/evaluation/"),
            ("evaluation/rapport.pdf", "/evaluation/rapport.pdf"),
            (
                "^evaluation/donnees\\.(?P<fmt>csv|ods|xlsx)$",
                "/evaluation/donnees.csv",
            ),
        )
    },
    # The folder « Travail » (cartable/schoolwork): the class's teachers and the
    # département's coordinator (and the loan's APADHE teacher, the kit's class station and
    # the pupil's tablet: tests/schoolwork); the family sees it only on the pupil's tablet.
    "prets/<int:loan_id>/travail/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/travail/",
        statuses(404, anonymous=SIGN_IN, teacher=200, coordinator=200),
    ),
    "prets/<int:loan_id>/travail/liste.json": Entry(
        lambda w: f"/prets/{w['loan'].pk}/travail/liste.json",
        statuses(404, teacher=200, coordinator=200),
    ),
    "eleve/travail/": Entry(fixed("/eleve/travail/"), statuses(302)),  # no tablet: pairing
    "travail/<int:work_id>/": Entry(
        lambda w: f"/travail/{_work(w)}/", statuses(404, teacher=200, coordinator=200)
    ),
    "travail/<int:work_id>/voir/": Entry(
        lambda w: f"/travail/{_work(w)}/voir/",
        statuses(404, anonymous=SIGN_IN, teacher=200, coordinator=200),
    ),
    "travail/<int:work_id>/fichier/<str:slug>": Entry(
        lambda w: f"/travail/{_work(w)}/fichier/page-1",
        statuses(404, teacher=200, coordinator=200),
    ),
    "travail/<int:work_id>/annote.pdf": Entry(
        lambda w: f"/travail/{_work(w)}/annote.pdf",
        statuses(404, teacher=200, coordinator=200),
    ),
    # Handing out, returning and correcting are POST only (tests/schoolwork: who may).
    "prets/<int:loan_id>/travail/envoyer/": Entry(
        lambda w: f"/prets/{w['loan'].pk}/travail/envoyer/", statuses(405)
    ),
    "travail/<int:work_id>/rendre/": Entry(lambda w: f"/travail/{_work(w)}/rendre/", statuses(405)),
    "travail/<int:work_id>/corriger/": Entry(
        lambda w: f"/travail/{_work(w)}/corriger/", statuses(405)
    ),
    # Surveys (cartable/surveys): the questionnaire is opened by its one-time link, with
    # no account (an unknown link: 404 with a French message); the review of free texts is
    # for the départements' coordinators; decisions are POST only.
    "questionnaire/merci/": Entry(fixed("/questionnaire/merci/"), statuses(200)),
    "questionnaire/<str:token>/": Entry(fixed("/questionnaire/pas-un-jeton/"), statuses(404)),
    "questionnaires/relecture/": Entry(
        fixed("/questionnaires/relecture/"),
        statuses(404, anonymous=SIGN_IN, coordinator=200, other_coordinator=200),
    ),
    "questionnaires/relecture/<uuid:answer_id>/": Entry(
        fixed("/questionnaires/relecture/6f1c1a52-3b0e-4d7a-9a35-0c8f1e2d4b67/"),
        statuses(405),
    ),
}


def routes_with_arguments(loan) -> list[str]:
    """A GET address for every route with arguments, from ``loan`` (used by the tests that
    look for names in pages)."""
    world = {"loan": loan, "invitation_token": "pas-un-jeton"}
    return [entry.path(world) for entry in TABLE.values()]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(request, loan, department, coordinator, mailoutbox):
    people = {role: request.getfixturevalue(FIXTURES.get(role, role)) for role in PEOPLE}
    services.invitation_create(
        by=coordinator,
        email="invitee@example.org",
        role=Role.TEACHER,
        scope=loan.school_class,
        accept_url=lambda token: f"<{token}>",
    )
    # The token exists only in the email.
    token = mailoutbox[-1].body.split("<", 1)[1].split(">", 1)[0]
    return {"loan": loan, "people": people, "invitation_token": token}


def test_every_route_has_an_entry():
    missing = sorted(set(all_routes()) - set(TABLE))
    assert missing == [], f"routes without an entry in the access table: {missing}"
    stale = sorted(set(TABLE) - set(all_routes()))
    assert stale == [], f"entries for routes that no longer exist: {stale}"


def test_every_entry_names_every_role():
    for route, entry in TABLE.items():
        assert set(entry.expected) == set(ROLES), route


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_everywhere(world, role):
    client = Client()
    if role != "anonymous":
        force_login(client, world["people"][role])
    got = {}
    for route, entry in TABLE.items():
        got[route] = client.get(entry.path(world)).status_code
    expected = {route: entry.expected[role] for route, entry in TABLE.items()}
    assert got == expected
