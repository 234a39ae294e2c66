"""The shared bad-input cases, for every address of the platform (docs/bad-input.md).

``REACH`` names, for every URL of the URL conf, who opens it and what it reads: the query
parameters it takes (``get``), the page whose forms post to it (``form_page``, by default
itself: its fields are read from the page's HTML, so a new field is covered without editing
this table), its uploads (``files``) and, for the API, its JSON fields (``json``). A URL
missing from the table fails ``test_every_address_is_in_the_table``: the next endpoint is
covered too.

Each address then gets, in every parameter, field, upload and JSON field:

- ``nul``: a NUL character (U+0000). Pages: a French 400 (``core.middleware``); API: 422.
- ``oversize``: 140,000 characters (a form's own limit, an import's 131,072-character field).
- ``deep``: nesting 5,000 levels deep (a JSON body, a JSON file, brackets in a text field).
- ``wrong_type``: the wrong kind of content (a number's field with text, a PNG as a CSV, an
  object where the API expects a string).

and none may answer a server error, or write anything it should refuse. Run on SQLite and
on PostgreSQL (``DATABASE_URL``), whose refusal of NUL in text used to be a 500.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cartable.fleet.models import Device, DeviceCommand, DeviceCredential
from cartable.fleet.services import credential_issue
from cartable.organisation.models import Pupil, School, SchoolClass
from cartable.schoolwork.services import work_create

from .conftest import force_login
from .schoolwork.conftest import make_pdf, work_storage  # noqa: F401 (a fixture)

NUL = "\x00"
OVERSIZE = "x" * 140_000  # over the csv module's 131,072 and every max_length
DEEP_TEXT = "[" * 5_000 + "]" * 5_000
DEEP_JSON = DEEP_TEXT
CASES = ("nul", "oversize", "deep", "wrong_type")
TEXT = {"nul": f"a{NUL}b", "oversize": OVERSIZE, "deep": DEEP_TEXT, "wrong_type": "-1e999"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
FILES = {
    "nul": b"numero_serie;type\nA\x00;class_box\n",
    "oversize": b"numero_serie;type\nA;" + b"x" * 140_000 + b"\n",
    "deep": DEEP_JSON.encode(),
    "wrong_type": PNG,
}
PDF = make_pdf(2)
JSON_VALUE = {"nul": f"a{NUL}b", "oversize": OVERSIZE, "deep": None, "wrong_type": {"a": [1]}}


@dataclass(frozen=True)
class Reach:
    who: str | None = None  # a fixture: a person, "device" (a kit device's Bearer), None
    kwargs: tuple[str, ...] = ()  # the path's arguments, read from the ``world``
    get: tuple[str, ...] = ()  # query parameters the view reads
    form_page: str | None = ""  # the page holding its forms ("": itself; None: no form)
    files: tuple[str, ...] = ()  # upload fields
    json: tuple[str, ...] = ()  # JSON body fields (API, POST)
    note: str = field(default="", compare=False)


LOAN = ("loan_id",)
WORK = ("work_id",)
REACH: dict[str, Reach] = {
    "home": Reach("teacher", get=("classe",)),
    "login": Reach(None, get=("next",)),
    "logout": Reach("teacher", form_page=None),
    "accounts:second_factor": Reach("fleet", get=("next",)),
    "accounts:totp_setup": Reach("fleet", get=("next",)),
    "accounts:password_reset": Reach(None),
    "accounts:password_reset_done": Reach(None, form_page=None),
    "accounts:password_reset_confirm": Reach(None, kwargs=("uidb64", "token")),
    "accounts:password_reset_complete": Reach(None, form_page=None),
    "accounts:oidc_start": Reach(None, get=("next",), form_page=None),
    "accounts:oidc_callback": Reach(None, get=("code", "state", "error"), form_page=None),
    "accounts:oidc_refused": Reach(None, form_page=None),
    "live:station": Reach("teacher", kwargs=LOAN, form_page=None),
    "live:pupil": Reach("pupil_device", form_page=None),
    "live:pair": Reach(None),
    "live:pairing_manage": Reach("teacher", kwargs=LOAN, form_page="fleet:loan"),
    "organisation:class_create": Reach("coordinator", get=("ecole",)),
    "organisation:class_edit": Reach("coordinator", kwargs=("class_id",)),
    "organisation:pupil_create": Reach("coordinator", get=("classe",)),
    "organisation:pupil_edit": Reach("coordinator", kwargs=("pupil_id",)),
    "organisation:invitation_create": Reach("coordinator", get=("role",)),
    "organisation:invitation_accept": Reach(None, kwargs=("token",)),
    "organisation:schools_import": Reach("administrator", files=("file",)),
    "fleet:kits": Reach("fleet", get=("statut", "generation", "q", "page")),
    "fleet:kit_create": Reach("fleet"),
    "fleet:kit_status": Reach("fleet", kwargs=("kit_id",), form_page="fleet:kit"),
    "fleet:device_create": Reach("fleet", get=("kit",)),
    "fleet:devices_import": Reach("fleet", files=("file",)),
    "fleet:device_edit": Reach("fleet", kwargs=("device_id",)),
    "fleet:enrolment_label": Reach("fleet", kwargs=("device_id",)),
    "fleet:loans": Reach("coordinator", get=("etape", "page", "q")),
    "fleet:loan_request": Reach("coordinator", get=("eleve",)),
    "fleet:loan": Reach("fleet", kwargs=LOAN),
    "fleet:loan_assign": Reach("fleet", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_ship": Reach("fleet", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_install_class": Reach("fleet", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_install_pupil": Reach("fleet", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_extend": Reach("coordinator", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_end": Reach("coordinator", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_cancel": Reach("coordinator", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:loan_return": Reach("fleet", kwargs=LOAN, form_page="fleet:loan"),
    "fleet:overview": Reach("fleet", get=("academie", "departement"), form_page=None),
    "fleet:kit": Reach("fleet", kwargs=("kit_id",)),
    "fleet:register_export": Reach(
        "fleet", kwargs=("kind", "fmt"), get=("academie", "departement"), form_page=None
    ),
    "privacy:index": Reach("dpo", form_page=None),
    "privacy:register": Reach("dpo", get=("format",), form_page=None),
    "privacy:audit_log": Reach("dpo", get=("person", "action", "object_type", "page")),
    "privacy:rights_search": Reach("dpo", get=("name", "school", "school_class")),
    "privacy:pupil_data": Reach("dpo", kwargs=("pupil_id",)),
    "privacy:pupil_json": Reach("dpo", kwargs=("pupil_id",), form_page=None),
    "privacy:pupil_erase": Reach("dpo", kwargs=("pupil_id",)),
    "privacy:notice_families": Reach(None, form_page=None),
    "privacy:notice_pupils": Reach(None, form_page=None),
    "consent:loan": Reach("coordinator", kwargs=LOAN),
    "consent:own_agreement": Reach("teacher", kwargs=LOAN, form_page="consent:loan"),
    "evaluation:report": Reach("ministry", get=("annee", "academie", "departement")),
    "evaluation:report_pdf": Reach(
        "ministry", get=("annee", "academie", "departement"), form_page=None
    ),
    "evaluation:report_data": Reach(
        "ministry", kwargs=("fmt",), get=("annee", "academie", "departement"), form_page=None
    ),
    "surveys:thanks": Reach(None, get=("eleve",), form_page=None),
    "surveys:answer": Reach(None, kwargs=("token",)),
    "surveys:review": Reach("coordinator", get=("page",)),
    "surveys:review_decide": Reach(
        "coordinator", kwargs=("answer_id",), form_page="surveys:review"
    ),
    "api:openapi-json": Reach(None, form_page=None),
    "api:enrol": Reach(None, form_page=None, json=("serial", "code")),
    "api:heartbeat": Reach(
        "device",
        form_page=None,
        json=("software_version", "network", "signal", "battery", "uptime_s"),
    ),
    "api:me": Reach("device", form_page=None),
    "api:evaluation_indicators": Reach(
        "ministry", get=("annee", "academie", "departement", "format"), form_page=None
    ),
    "api:api-root": Reach(None, form_page=None),
    "api:command_result": Reach(
        "device", kwargs=("command_id",), form_page=None, json=("ok", "message")
    ),
    "fleet:device_command": Reach("fleet", kwargs=("device_id",), form_page="fleet:kit"),
    "schoolwork:folder": Reach("teacher", kwargs=LOAN, form_page=None),
    "schoolwork:folder_json": Reach("teacher", kwargs=LOAN, form_page=None),
    "schoolwork:hand_out": Reach(
        "teacher", kwargs=LOAN, form_page="schoolwork:folder", files=("file",)
    ),
    "schoolwork:pupil_folder": Reach("pupil_device", form_page=None),
    "schoolwork:work": Reach("teacher", kwargs=WORK, form_page=None),
    "schoolwork:viewer": Reach("teacher", kwargs=WORK, form_page=None),
    "schoolwork:file": Reach("teacher", kwargs=(*WORK, "slug"), form_page=None),
    "schoolwork:flattened": Reach("teacher", kwargs=WORK, form_page=None),
    "schoolwork:give_back": Reach("pupil_device", kwargs=WORK, form_page=None, files=("photo",)),
    "schoolwork:correct": Reach("teacher", kwargs=WORK, form_page=None),
    "source": Reach(None, form_page=None),
    "source_archive": Reach(None, form_page=None, note="the archive: no input"),
    "source_licence": Reach(None, form_page=None),
}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_address_is_in_the_table():
    names = url_names()
    assert sorted(names - set(REACH)) == [], "add these addresses to REACH"
    assert sorted(set(REACH) - names) == [], "these addresses are gone: remove them"


class Fields(HTMLParser):
    """The names of the fields of every form on a page, with a value each may send."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag in ("input", "textarea") and name and name != "csrfmiddlewaretoken":
            if attrs.get("type") in ("submit", "button", "file"):
                return
            self.values.setdefault(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and not self.values[self._select]:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_fields(client: Client, url: str) -> dict[str, str]:
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return {}
    parser = Fields()
    parser.feed(response.content.decode())
    return parser.values


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(request, loan, department, teacher, coordinator, fleet, dpo, ministry, administrator):
    device = Device.objects.create(kit=loan.kit, kind=Device.Kind.CLASS_BOX, serial="BOX-BAD-1")
    _, device_token = credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=device)
    request.getfixturevalue("work_storage")  # schoolwork files in a temporary folder
    command = DeviceCommand.objects.create(device=device, kind=DeviceCommand.Kind.RESTART)
    work = work_create(loan=loan, by_user=teacher, kind="handed_out", title="Fiche", data=PDF)
    return {
        "work_id": work.pk,
        "slug": "page-1",
        "command_id": command.pk,
        "loan_id": loan.pk,
        "kit_id": loan.kit_id,
        "device_id": device.pk,
        "pupil_id": loan.pupil_id,
        "class_id": loan.school_class_id,
        "token": "jeton-inconnu",
        "uidb64": "MQ",
        "answer_id": uuid.uuid4(),
        "kind": "prets",
        "fmt": "csv",
        "device_token": device_token,
        "people": {
            "teacher": teacher,
            "coordinator": coordinator,
            "fleet": fleet,
            "dpo": dpo,
            "ministry": ministry,
            "administrator": administrator,
        },
    }


def client_for(reach: Reach, world: dict, request) -> Client:
    if reach.who is None:
        return Client()
    if reach.who == "device":
        return Client(HTTP_AUTHORIZATION=f"Bearer {world['device_token']}")
    if reach.who == "pupil_device":
        from django.conf import settings

        client = Client()
        client.cookies[settings.DEVICE_COOKIE_NAME] = request.getfixturevalue("pupil_token")
        return client
    return force_login(Client(), world["people"][reach.who])


def written() -> tuple[int, ...]:
    """What a refused input must not have added to."""
    return (
        School.objects.count(),
        SchoolClass.objects.count(),
        Pupil.objects.count(),
        Device.objects.count(),
    )


def no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


def check_page(client: Client, name: str, reach: Reach, url: str, form_url: str | None):
    for case in CASES:
        value = TEXT[case]
        for param in reach.get:
            response = client.get(url, {param: value})
            no_server_error(response, f"GET {name} ?{param} {case}")
            if case == "nul":
                assert response.status_code == 400, (name, param)
                assert "Caractère nul" in response.content.decode()
        fields = form_fields(client, form_url) if form_url else {}
        for field_name in fields:
            data = {**fields, field_name: value}
            before = written()
            response = client.post(url, data)
            no_server_error(response, f"POST {name} {field_name} {case}")
            if case == "nul":
                assert response.status_code == 400, (name, field_name)
                assert written() == before, (name, field_name)
        for upload in reach.files:
            before = written()
            file = SimpleUploadedFile("fichier.csv", FILES[case], content_type="text/csv")
            response = client.post(url, {upload: file})
            no_server_error(response, f"POST {name} file {case}")
            assert response.status_code == 400, (name, case)
            assert written() == before, (name, case)


def check_api(client: Client, name: str, reach: Reach, url: str):
    for case in CASES:
        for param in reach.get:
            response = client.get(url, {param: TEXT[case]})
            no_server_error(response, f"GET {name} ?{param} {case}")
            if case in ("nul", "oversize"):
                assert response.status_code in (400, 401, 422), (name, param, case)
        if not reach.json:
            continue
        if case == "deep":
            response = client.post(url, DEEP_JSON, content_type="application/json")
            no_server_error(response, f"POST {name} deep body")
            assert response.status_code in (400, 401, 422)
            continue
        for json_field in reach.json:
            body = {f: "x" for f in reach.json} | {json_field: JSON_VALUE[case]}
            response = client.post(url, json.dumps(body), content_type="application/json")
            no_server_error(response, f"POST {name} {json_field} {case}")
            assert response.status_code in (401, 422), (name, json_field, case)


@pytest.mark.parametrize("name", sorted(REACH))
def test_bad_input_is_refused_without_a_server_error(name, world, request):
    reach = REACH[name]
    client = client_for(reach, world, request)
    url = reverse(name, kwargs={key: world[key] for key in reach.kwargs})
    if name.startswith("api:"):
        check_api(client, name, reach, url)
        return
    form_url = None
    if reach.form_page is not None:
        page = reach.form_page or name
        form_url = reverse(page, kwargs={key: world[key] for key in REACH[page].kwargs})
    check_page(client, name, reach, url, form_url)


def test_the_form_fields_are_found(world, request):
    """The table reads real forms: a class's form has its fields (else nothing is tested)."""
    client = client_for(REACH["organisation:class_create"], world, request)
    fields = form_fields(client, reverse("organisation:class_create"))
    assert {"name", "level"} <= set(fields)
