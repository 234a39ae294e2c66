"""The live link's ``work`` message: both sides hear at once that a document was handed
out, returned or corrected, in a lesson or not; clients cannot send it."""

from __future__ import annotations

import json

import pytest

from cartable.live import protocol
from cartable.schoolwork.models import Work
from cartable.schoolwork.services import work_correct, work_create, work_return

from ..live.wsclient import Links, on_server
from .conftest import make_pdf


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def links(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


def test_both_sides_hear_of_work_handed_out_returned_and_corrected(
    links, asgi_server, loan, teacher, pupil_token
):
    klass = links.open(loan.pk, "class", user=teacher)
    klass.hello()
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.hello()
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    # No lesson is live: the folder « Travail » still updates on both sides.
    work = on_server(
        asgi_server,
        work_create,
        loan=loan,
        by_user=teacher,
        kind="handed_out",
        title="Fiche",
        data=make_pdf(2),
    )
    for side in (klass, pupil):
        side.expect("work", work=work.pk, change="handed_out", state="todo")
    stroke = [{"page": 2, "colour": "#1d4ed8", "width": 4, "points": [[0.1, 0.1]]}]
    on_server(asgi_server, work_return, work=work, strokes=json.dumps(stroke), answer="", photos=[])
    for side in (klass, pupil):
        side.expect("work", work=work.pk, change="returned", state="returned")
    on_server(asgi_server, work_correct, work=Work.objects.get(pk=work.pk), strokes="", comment="")
    for side in (klass, pupil):
        side.expect("work", work=work.pk, change="corrected", state="corrected")
    # A client may not send it.
    pupil.send("work", work=work.pk, change="returned", state="returned")
    pupil.expect_error("unknown_type")
    klass.expect_nothing()


def test_the_notice_is_checked_against_its_schema():
    notice = protocol.WorkNotice(type="work", work=3, change="returned", state="returned")
    assert notice.model_dump() == {
        "type": "work",
        "work": 3,
        "change": "returned",
        "state": "returned",
    }
    with pytest.raises(ValueError):
        protocol.WorkNotice(type="work", work=3, change="deleted", state="returned")
    assert "work" in protocol.SERVER_TYPES and "work" not in protocol.CLIENT_TYPES
