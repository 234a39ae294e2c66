"""Handing out, returning, correcting over HTTPS: who may (everyone else 404, naming
nothing), every refusal with a French message and nothing half-stored."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from cartable.core.errors import NUL_REFUSED
from cartable.fleet.services import credential_issue
from cartable.privacy.models import AuditEntry
from cartable.schoolwork.models import Work, WorkFile

from ..conftest import force_login
from .conftest import make_jpeg, make_pdf, png_declaring, stored_files

JSON = {"HTTP_ACCEPT": "application/json"}


def hand_out(client, loan, data: bytes, name: str = "fiche.pdf", **fields):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(
        f"/prets/{loan.pk}/travail/envoyer/", {"file": upload, "title": "Fiche", **fields}, **JSON
    )


def test_a_teacher_hands_out_a_pdf(teacher_client, loan, work_storage):
    response = hand_out(teacher_client, loan, make_pdf(3))
    assert response.status_code == 201
    work = response.json()["work"]
    assert work["state"] == "todo" and len(work["pages"]) == 3
    assert "Exercice page 2" in work["pages"][1]["text"]
    stored = Work.objects.get()
    assert stored.files.count() == 4  # the PDF and three pages
    # Page 1 is rendered at once; the others when first asked for.
    assert len(stored_files(work_storage)) == 2
    assert teacher_client.get(work["pages"][2]["url"]).status_code == 200
    assert len(stored_files(work_storage)) == 3
    # The storage never holds the uploaded name.
    assert not any("fiche" in path.name for path in stored_files(work_storage))
    page = teacher_client.get(work["pages"][0]["url"])
    assert page.status_code == 200 and page["Content-Type"] == "image/jpeg"
    assert "filename" not in page["Content-Disposition"]


BAD_FILES = {
    "renamed executable": (b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00", "devoir.pdf"),
    "html called pdf": (b"<!doctype html><html><script>alert(1)</script></html>", "cours.pdf"),
    "nul bytes": (b"\x00" * 2048, "fiche.pdf"),
    "corrupt pdf": (b"%PDF-1.7\n1 0 obj <</Type /Catalog>>\n%%garbage", "fiche.pdf"),
    "encrypted pdf": (make_pdf(1, encryption=pikepdf.Encryption(owner="o", user="u")), "a.pdf"),
    "pdf bomb": (make_pdf(3000, text=False), "bombe.pdf"),
    "huge image": (png_declaring(60_000, 60_000), "photo.png"),
    "wrong type by content": (b"PK\x03\x04" + b"\x00" * 100, "fiche.jpg"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_are_refused_in_french_and_nothing_is_stored(
    teacher_client, loan, work_storage, case
):
    data, name = BAD_FILES[case]
    response = hand_out(teacher_client, loan, data, name)
    assert response.status_code == 400
    message = response.json()["error"]
    assert message and ("n'a pas été envoy" in message or "PDF" in message)
    assert not Work.objects.exists() and not WorkFile.objects.exists()
    assert stored_files(work_storage) == []


def test_the_html_form_shows_the_refusal(teacher_client, loan):
    upload = SimpleUploadedFile("devoir.pdf", b"MZ\x90\x00" + b"\x00" * 60)
    response = teacher_client.post(f"/prets/{loan.pk}/travail/envoyer/", {"file": upload})
    assert response.status_code == 400
    assert "ni un PDF, ni une image" in response.content.decode()


def test_bad_form_fields_are_refused(teacher_client, loan):
    for fields in ({"title": "x" * 500}, {"due_on": "pas une date"}):
        response = hand_out(teacher_client, loan, make_jpeg(), "photo.jpg", **fields)
        assert response.status_code == 400, fields
        assert response.json()["error"].startswith("Le formulaire contient une erreur")
    # A NUL is refused before the view (core.middleware), in JSON for the page's fetch.
    response = hand_out(teacher_client, loan, make_jpeg(), "photo.jpg", title="a\x00b")
    assert response.status_code == 400
    assert response.json()["error"] == NUL_REFUSED
    assert not Work.objects.exists()


def test_a_failure_half_way_leaves_nothing(teacher_client, loan, work_storage, monkeypatch):
    from cartable.schoolwork import services

    real = services._Files.add
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the first page, once the PDF is stored
            raise OSError("disque plein")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(services._Files, "add", failing)
    with pytest.raises(OSError):
        services.work_create(loan=loan, kind="handed_out", title="x", data=make_pdf(3))
    assert not Work.objects.exists()
    assert stored_files(work_storage) == []


class LazyBody(io.RawIOBase):
    """A request body of ``size`` bytes made as it is read (never held in memory)."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.pos = head, size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.pos >= self.size:
            return 0
        n = min(len(buffer), self.size - self.pos)
        chunk = (self.head[self.pos : self.pos + n] if self.pos < len(self.head) else b"").ljust(
            n, b"A"
        )
        buffer[:n] = chunk
        self.pos += n
        return n


def test_a_200_mb_upload_is_stopped_as_it_streams(loan, teacher, work_storage):
    """Without a declared length the guard in front cannot tell: the upload handler stops
    at the limit, having read a little over 20 MB, and the view says so in French."""
    from django.core.handlers.wsgi import LimitedStream
    from django.test import RequestFactory

    from cartable.schoolwork.views import hand_out as view

    boundary = "limite"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    body = LazyBody(head, 200 * 1024 * 1024)
    request = RequestFactory().post(
        f"/prets/{loan.pk}/travail/envoyer/",
        data=b"",
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_ACCEPT="application/json",
    )
    request.META["CONTENT_TYPE"] = f"multipart/form-data; boundary={boundary}"
    request.META["CONTENT_LENGTH"] = str(200 * 1024 * 1024)
    request._set_content_type_params(request.META)
    request._stream = LimitedStream(body, 200 * 1024 * 1024)
    request.user = teacher
    request._dont_enforce_csrf_checks = True
    response = view(request, loan_id=loan.pk)
    assert response.status_code == 413, response.content.decode()
    assert json.loads(response.content)["error"].startswith("Le fichier dépasse 20 Mo")
    assert body.pos < 30 * 1024 * 1024
    assert not Work.objects.exists() and stored_files(work_storage) == []


async def test_a_200_mb_declared_upload_is_refused_before_its_body_is_read():
    from cartable.schoolwork.uploads import BodyLimit

    called = {"app": False, "receive": False}

    async def app(scope, receive, send):
        called["app"] = True

    async def receive():
        called["receive"] = True
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/prets/1/travail/envoyer/",
        "headers": [(b"content-length", str(200 * 1024 * 1024).encode())],
    }
    await BodyLimit(app)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert "Le fichier dépasse 20 Mo" in json.loads(sent[1]["body"])["error"]
    assert called == {"app": False, "receive": False}
    # Elsewhere, nothing changes.
    await BodyLimit(app)({**scope, "path": "/parc/appareils/import/"}, receive, send)
    assert called["app"]


# Who may ------------------------------------------------------------------------------------


@pytest.fixture
def people(
    teacher, apadhe, coordinator, other_teacher, outsider, family, hospital_staff, other_coordinator
):
    return {
        "teacher": teacher,
        "apadhe": apadhe,
        "coordinator": coordinator,
        "other_teacher": other_teacher,
        "outsider": outsider,
        "family": family,
        "hospital_staff": hospital_staff,
        "other_coordinator": other_coordinator,
    }


def client_of(person):
    return force_login(Client(), person)


def test_outsiders_get_404_and_no_name(people, work, pupil_client):
    page = WorkFile.objects.get(work=work, role="page", index=1)
    addresses = [
        f"/prets/{work.loan_id}/travail/",
        f"/prets/{work.loan_id}/travail/liste.json",
        f"/travail/{work.pk}/",
        f"/travail/{work.pk}/voir/",
        f"/travail/{work.pk}/fichier/page-1",
        f"/travail/{work.pk}/fichier/original",
        f"/travail/{work.pk}/annote.pdf",
    ]
    for role in ("other_teacher", "outsider", "family", "hospital_staff", "other_coordinator"):
        client = client_of(people[role])
        for address in addresses:
            response = client.get(address)
            assert response.status_code == 404, (role, address)
            body = response.content.decode(errors="replace")
            assert "Fractions" not in body and page.file.name not in body
    for role in ("teacher", "apadhe", "coordinator"):
        client = client_of(people[role])
        for address in addresses:
            assert client.get(address).status_code == 200, (role, address)
    for address in addresses:
        assert pupil_client.get(address).status_code == 200, address
    # A file that does not exist, or a slug that is not one: 404 too.
    teacher = client_of(people["teacher"])
    for slug in ("page-9", "photo-1", "page-x", "page-²", "../../etc/passwd", "original-1-2"):
        assert teacher.get(f"/travail/{work.pk}/fichier/{slug}").status_code == 404, slug


def test_who_may_hand_out_return_and_correct(people, work, pupil_client, loan):
    strokes = json.dumps([{"page": 1, "colour": "#1d4ed8", "width": 4, "points": [[0.1, 0.2]]}])
    for role in ("coordinator", "other_teacher", "outsider", "family", "hospital_staff"):
        client = client_of(people[role])
        assert hand_out(client, loan, make_jpeg(), "p.jpg").status_code == 404, role
        assert client.post(f"/travail/{work.pk}/corriger/", {"strokes": strokes}).status_code == 404
        assert client.post(f"/travail/{work.pk}/rendre/", {"strokes": strokes}).status_code == 404
    # Teachers never return in the pupil's place; the pupil never corrects nor hands out.
    teacher = client_of(people["teacher"])
    assert teacher.post(f"/travail/{work.pk}/rendre/", {"strokes": strokes}).status_code == 404
    assert pupil_client.post(f"/travail/{work.pk}/corriger/", {"strokes": strokes}).status_code == (
        404
    )
    assert hand_out(pupil_client, loan, make_jpeg(), "p.jpg").status_code == 404
    assert Work.objects.count() == 1
    # The APADHE teacher of the loan and the kit's class station hand out.
    assert hand_out(client_of(people["apadhe"]), loan, make_jpeg(), "p.jpg").status_code == 201
    _, token = credential_issue(kind="class_station", kit=loan.kit)
    station = Client()
    station.cookies[django_settings.DEVICE_COOKIE_NAME] = token
    assert hand_out(station, loan, make_jpeg(), "p.jpg", source="board").status_code == 201
    assert Work.objects.filter(source="board").exists()


def test_a_revoked_tablet_sees_nothing(work, pupil_client, teacher):
    from cartable.fleet.models import DeviceCredential
    from cartable.live.services import paired_device_revoke

    paired_device_revoke(credential=DeviceCredential.objects.get(kind="pupil_tablet"), by=teacher)
    assert pupil_client.get(f"/travail/{work.pk}/").status_code == 404
    assert pupil_client.get(f"/travail/{work.pk}/fichier/page-1").status_code == 404


# Both ways -----------------------------------------------------------------------------------


def test_the_pupil_draws_on_page_2_returns_and_the_teacher_corrects(
    work, pupil_client, teacher_client, work_storage
):
    stroke = {"page": 2, "colour": "#1d4ed8", "width": 4, "points": [[0.2, 0.2], [0.8, 0.6]]}
    photo = SimpleUploadedFile("IMG_0001.jpg", make_jpeg((1200, 900), exif=True))
    response = pupil_client.post(
        f"/travail/{work.pk}/rendre/",
        {"strokes": json.dumps([stroke]), "answer": "3/4", "photo": photo},
    )
    assert response.status_code == 200, response.content
    returned = response.json()["work"]
    assert returned["state"] == "returned" and returned["answer"] == "3/4"
    assert returned["pupil_strokes"][0]["page"] == 2
    kept = pupil_client.get(returned["photos"][0]["url"])
    data = b"".join(kept.streaming_content)
    assert not Image.open(io.BytesIO(data)).getexif() and b"Exif" not in data
    # The teacher sees the stroke and annotates in red.
    seen = teacher_client.get(f"/travail/{work.pk}/").json()["work"]
    assert seen["pupil_strokes"] == returned["pupil_strokes"]
    red = {"page": 2, "colour": "#dc2626", "width": 3, "points": [[0.5, 0.5], [0.6, 0.5]]}
    corrected = teacher_client.post(
        f"/travail/{work.pk}/corriger/", {"strokes": json.dumps([red]), "comment": "Bien !"}
    )
    assert corrected.status_code == 200
    assert pupil_client.get(f"/travail/{work.pk}/").json()["work"]["state"] == "corrected"
    flattened = teacher_client.get(f"/travail/{work.pk}/annote.pdf")
    assert flattened["Content-Type"] == "application/pdf"
    with pikepdf.open(io.BytesIO(flattened.content)) as pdf:
        assert len(pdf.pages) == 3


BAD_STROKES = {
    "not json": "[{",
    "nul": '[{"page": 1, "colour": "#000000", "width": 2, "points": [[0.1, 0.1]]}]\x00',
    "deep nesting": "[" * 5000 + "]" * 5000,
    "page out of range": json.dumps(
        [{"page": 9, "colour": "#000000", "width": 2, "points": [[0.1, 0.1]]}]
    ),
    "off the page": json.dumps(
        [{"page": 1, "colour": "#000000", "width": 2, "points": [[3, 0.1]]}]
    ),
    "wrong type": json.dumps({"page": 1}),
    "bad colour": json.dumps([{"page": 1, "colour": "red;x", "width": 2, "points": [[0.1, 0.1]]}]),
    "oversize": json.dumps(
        [{"page": 1, "colour": "#000000", "width": 2, "points": [[0.1, 0.1]] * 6000}]
    ),
}


@pytest.mark.parametrize("case", BAD_STROKES, ids=list(BAD_STROKES))
def test_bad_strokes_are_refused(work, pupil_client, teacher_client, case):
    for client, address in (
        (pupil_client, f"/travail/{work.pk}/rendre/"),
        (teacher_client, f"/travail/{work.pk}/corriger/"),
    ):
        response = client.post(address, {"strokes": BAD_STROKES[case]}, **JSON)
        assert response.status_code == 400, (case, address)
        if case == "nul":  # refused before the view (core.middleware)
            assert response.json()["error"] == NUL_REFUSED
            continue
        assert (
            response.json()["error"]
            == "Le dessin envoyé n'est pas lisible : il n'a pas été enregistré."
        )
    work.refresh_from_db()
    assert work.state == "todo" and work.pupil_strokes == []


def test_a_returned_photo_that_is_not_an_image_is_refused(work, pupil_client, work_storage):
    before = len(stored_files(work_storage))
    fake = SimpleUploadedFile("photo.jpg", b"<html>pas une photo</html>")
    response = pupil_client.post(f"/travail/{work.pk}/rendre/", {"photo": fake})
    assert response.status_code == 400
    assert "pas une image" in response.json()["error"]
    assert len(stored_files(work_storage)) == before


def test_work_set_for_later_is_listed_for_the_pupil(teacher_client, pupil_client, loan):
    response = hand_out(teacher_client, loan, make_pdf(1), due_on="2026-12-10", title="Pour jeudi")
    assert response.status_code == 201
    listed = pupil_client.get(f"/prets/{loan.pk}/travail/liste.json").json()["works"]
    assert listed[0]["kind"] == "set" and listed[0]["due_on"] == "2026-12-10"
    page = pupil_client.get(f"/prets/{loan.pk}/travail/")
    assert page.status_code == 200 and "Pour jeudi" in page.content.decode()
    assert pupil_client.get("/eleve/travail/")["Location"] == f"/prets/{loan.pk}/travail/"


def test_each_open_by_staff_is_audited_the_pupils_own_is_not(work, teacher_client, pupil_client):
    AuditEntry.objects.all()  # entries of the hand-out itself are by the service, none here
    before = AuditEntry.objects.filter(object_type="schoolwork.work").count()
    pupil_client.get(f"/travail/{work.pk}/")
    assert AuditEntry.objects.filter(object_type="schoolwork.work").count() == before
    teacher_client.get(f"/travail/{work.pk}/")
    teacher_client.get(f"/travail/{work.pk}/annote.pdf")
    entries = AuditEntry.objects.filter(object_type="schoolwork.work", object_id=str(work.pk))
    assert entries.count() == before + 2
    assert {entry.action for entry in entries} == {"view"}
    assert all("Fractions" not in entry.detail for entry in entries)


def test_the_apadhe_teacher_finds_the_folder_from_their_home_page(apadhe, loan, work):
    home = force_login(Client(), apadhe).get("/")
    assert home.status_code == 200
    assert f'href="/prets/{loan.pk}/travail/"' in home.content.decode()
