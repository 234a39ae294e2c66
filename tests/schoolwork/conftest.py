"""Fixtures for the schoolwork tests: documents made on the spot, a storage in a temporary
folder, and clients for each member of a loan (and for outsiders)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from cartable.organisation.models import RoleGrant

from ..conftest import force_login, make_user


@pytest.fixture(autouse=True)
def work_storage(tmp_path, monkeypatch):
    """The "schoolwork" storage in a temporary folder (the field holds its storage)."""
    from django.core.files.storage import FileSystemStorage

    from cartable.schoolwork.models import WorkFile

    field = WorkFile._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "schoolwork"))
    return tmp_path / "schoolwork"


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def make_pdf(pages: int = 2, *, text: bool = True, encryption=None) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=(595, 842))
        if text:
            page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            page.obj.Contents = pdf.make_stream(
                f"BT /F1 28 Tf 72 700 Td (Exercice page {number}) Tj ET".encode()
            )
    out = io.BytesIO()
    if encryption is not None:
        pdf.save(out, encryption=encryption)
    else:
        pdf.save(out)
    return out.getvalue()


def make_jpeg(size=(640, 480), *, exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "Appareil de la famille"  # Make
        data[0x0110] = "Téléphone 12"  # Model
        gps = data.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (48.0, 51.0, 24.0)
        image.save(out, "JPEG", exif=data)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width`` × ``height`` pixels (a valid CRC)."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


@pytest.fixture
def teacher_client(teacher):
    return force_login(Client(), teacher)


@pytest.fixture
def pupil_client(pupil_token):
    client = Client()
    client.cookies[django_settings.DEVICE_COOKIE_NAME] = pupil_token
    return client


@pytest.fixture
def apadhe(loan):
    user = make_user("apadhe")
    RoleGrant.objects.create(user=user, role=RoleGrant.Role.APADHE_TEACHER, loan=loan)
    return user


@pytest.fixture
def work(loan, teacher):
    from cartable.schoolwork.services import work_create

    return work_create(
        loan=loan, by_user=teacher, kind="handed_out", title="Fractions", data=make_pdf(3)
    )
