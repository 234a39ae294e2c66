"""What an upload is, by its content; what is kept of it; every refusal in French."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import Image

from cartable.schoolwork import content
from cartable.schoolwork.content import Refused

from .conftest import make_jpeg, make_pdf, png_declaring

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57


def refusal(data: bytes) -> str:
    with pytest.raises(Refused) as caught:
        content.prepare(data)
    return caught.value.message


def test_a_pdf_is_checked_rendered_and_its_text_extracted():
    prepared = content.prepare(make_pdf(3))
    assert prepared.source == "pdf"
    assert len(prepared.pages) == 3
    assert prepared.original.startswith(b"%PDF")
    first = prepared.pages[0]
    assert max(first.width, first.height) == 1600
    assert Image.open(io.BytesIO(first.data)).format == "JPEG"
    assert "Exercice page 1" in first.text
    assert "Exercice page 3" in prepared.pages[2].text


@pytest.mark.parametrize("data", [EXECUTABLE, ELF], ids=["windows", "linux"])
def test_a_renamed_executable_is_refused(data):
    # The name (devoir.pdf) never counts: only the content does.
    assert refusal(data) == content.NOT_ALLOWED


def test_an_html_page_called_pdf_is_refused():
    assert refusal(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>") == (
        content.NOT_ALLOWED
    )


def test_nul_bytes_and_an_empty_file_are_refused():
    assert refusal(b"\x00" * 4096) == content.NOT_ALLOWED
    assert refusal(b"") == content.EMPTY


def test_a_corrupt_pdf_is_refused():
    assert refusal(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n%%garbage") in (
        content.CORRUPT_PDF,
    )
    truncated = make_pdf(2)[:200]
    assert refusal(truncated) == content.CORRUPT_PDF


def test_an_encrypted_pdf_is_refused_with_or_without_a_password_to_open_it():
    locked = make_pdf(1, encryption=pikepdf.Encryption(owner="o", user="secret"))
    owner_only = make_pdf(1, encryption=pikepdf.Encryption(owner="o", user=""))
    assert refusal(locked) == content.ENCRYPTED_PDF
    assert refusal(owner_only) == content.ENCRYPTED_PDF


def test_a_pdf_bomb_of_thousands_of_pages_is_refused_before_rendering(settings):
    message = refusal(make_pdf(5000, text=False))
    assert message.startswith("Ce PDF a 5000 pages : 60 au plus.")


def test_an_image_declaring_a_huge_size_is_refused_before_decoding():
    message = refusal(png_declaring(100_000, 100_000))
    assert message.startswith("Cette image est trop grande")
    assert "40 millions de pixels au plus" in message


def test_a_corrupt_image_is_refused():
    data = make_jpeg()
    assert refusal(data[:300]) == content.CORRUPT_IMAGE


def test_an_image_is_re_encoded_without_its_metadata():
    original = make_jpeg(exif=True)
    assert Image.open(io.BytesIO(original)).getexif()  # the phone's make, model, location
    prepared = content.prepare(original)
    page = prepared.pages[0]
    kept = Image.open(io.BytesIO(page.data))
    assert kept.format == "JPEG"
    assert not kept.getexif()
    assert "exif" not in kept.info
    assert b"Exif" not in page.data
    assert b"Appareil de la famille" not in page.data
    assert prepared.original is None


def test_office_documents_are_refused_when_the_server_cannot_convert(settings):
    settings.SCHOOLWORK = {**settings.SCHOOLWORK, "SOFFICE": ""}
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    assert refusal(out.getvalue()) == content.NO_CONVERTER


def test_an_oversize_buffer_is_refused(settings):
    settings.SCHOOLWORK = {**settings.SCHOOLWORK, "MAX_UPLOAD_BYTES": 1024}
    assert refusal(make_pdf(1) + b" " * 2048).startswith("Le fichier dépasse")


def test_an_image_over_the_setting_says_its_size():
    message = refusal(png_declaring(8000, 6000))  # 48 million pixels, below Pillow's own limit
    assert message.startswith("Cette image est trop grande (8000 × 6000 pixels)")
