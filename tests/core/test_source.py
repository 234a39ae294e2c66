"""The source of the running version, offered to everyone who uses the service (GNU AGPL
v3, section 13): linked from every page, an archive of the very files the server runs,
holding nothing of the service's data or settings."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import cartable
from cartable.core import source

ROOT = Path(cartable.__file__).resolve().parent.parent


@pytest.fixture
def archive(client) -> tarfile.TarFile:
    response = client.get("/code-source/cartable.tar.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].startswith('attachment; filename="cartable-')
    return tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz")


def test_every_page_links_the_source(client, db):
    for path in ("/", "/connexion/", "/informations/familles/"):
        assert 'href="/code-source/"' in client.get(path).content.decode(), path


def test_the_source_page_offers_this_version_and_the_licence(client, db, settings):
    settings.SOURCE_URL = "https://forge.example.org/cartable"
    page = client.get("/code-source/").content.decode()
    assert f"version {source.running_version()}" in page
    assert 'href="/code-source/cartable.tar.gz"' in page
    assert 'href="https://forge.example.org/cartable"' in page
    licence = client.get("/code-source/licence.txt")
    assert licence["Content-Type"] == "text/plain; charset=utf-8"
    assert licence.content.decode().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")


def test_the_archive_holds_the_files_the_server_runs(archive):
    prefix = f"cartable-{source.running_version()}/"
    names = archive.getnames()
    assert all(name.startswith(prefix) for name in names)
    for wanted in ("cartable/settings.py", "cartable/live/consumers.py", "LICENSE"):
        member = archive.extractfile(prefix + wanted)
        assert member is not None, wanted
        assert member.read() == (ROOT / wanted).read_bytes(), wanted
    assert prefix + "cartable/live/static/live/link.js" in names
    assert prefix + "cartable/templates/base.html" in names


def test_the_archive_holds_no_data_settings_nor_environment(archive, settings):
    names = archive.getnames()
    for part in ("/var/", "/.venv/", "/.git/", "__pycache__", "secret_key", ".sqlite3"):
        assert not [name for name in names if part in name], part
    assert not [name for name in names if name.endswith(".pyc")]
    assert all(member.uid == 0 and not member.uname for member in archive.getmembers())
