"""What an uploaded file is, decided by its content, and what is kept of it.

- The type comes from libmagic (python-magic) on the file's first bytes, never from its
  name: a renamed executable or an HTML page called ``.pdf`` is refused.
- An image is decoded by Pillow only once its declared size is known to be reasonable
  (``MAX_IMAGE_PIXELS``: a decompression bomb is refused before any pixel is decoded),
  then re-encoded as a fresh JPEG: EXIF (location, device), XMP and comments are dropped,
  the orientation applied.
- A PDF is opened with pikepdf (qpdf): corrupt, encrypted (even without a password to
  open it) or longer than ``MAX_PAGES`` pages: refused. Its pages are rendered to images on
  the server with pypdfium2 (PDFium, the engine of Chromium's PDF viewer), and their text
  extracted for screen readers. Rendering on the server means no third-party service sees
  the document and the tablet needs no PDF engine: an old tablet shows a JPEG as fast as a
  new one, and pdf.js (megabytes of JavaScript, slow on old hardware) is not needed.
- ODF and Office documents are converted to PDF by LibreOffice when the server has it
  (``SCHOOLWORK['SOFFICE']``; optional): without it they are refused, with a message
  asking for a PDF.

Nothing here writes anything: it returns bytes that the services store atomically.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import magic
from django.conf import settings
from PIL import Image, ImageOps

PDF = "application/pdf"
IMAGES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
OFFICE = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
}
JPEG_QUALITY = 85
PHOTO_LONG_SIDE = 2400  # a photo of paper work, kept sharp enough to read handwriting

NOT_ALLOWED = (
    "Ce fichier n'est ni un PDF, ni une image (JPEG, PNG, WebP), ni un document que le "
    "serveur sait convertir : il n'a pas été envoyé."
)
EMPTY = "Le fichier est vide : il n'a pas été envoyé."
CORRUPT_PDF = "Ce PDF est abîmé et ne peut pas être lu : il n'a pas été envoyé."
ENCRYPTED_PDF = (
    "Ce PDF est protégé (mot de passe ou chiffrement) : enregistrez-le sans protection, "
    "puis envoyez-le à nouveau."
)
CORRUPT_IMAGE = "Cette image est abîmée et ne peut pas être lue : elle n'a pas été envoyée."
NO_CONVERTER = (
    "Ce serveur ne sait pas convertir les documents de traitement de texte ou de "
    "présentation : enregistrez-le en PDF, puis envoyez le PDF."
)
CONVERSION_FAILED = "La conversion de ce document en PDF a échoué : envoyez-le en PDF."


class Refused(Exception):
    """A file refused, with the French message to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def too_big_message() -> str:
    limit = settings.SCHOOLWORK["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    return f"Le fichier dépasse {limit} Mo : il n'a pas été envoyé. Envoyez un fichier plus léger."


@dataclass
class Page:
    data: bytes
    width: int
    height: int
    text: str = ""


@dataclass
class Prepared:
    source: str  # Work.Source value
    pages: list[Page] = field(default_factory=list)
    original: bytes | None = None  # the checked PDF (None for an image)


def sniff(data: bytes) -> str:
    return magic.from_buffer(data[:65536], mime=True)


def prepare(data: bytes, *, source: str | None = None) -> Prepared:
    """Check ``data`` and make what is kept of it; raise ``Refused`` otherwise."""
    if not data:
        raise Refused(EMPTY)
    if len(data) > settings.SCHOOLWORK["MAX_UPLOAD_BYTES"]:
        raise Refused(too_big_message())
    kind = sniff(data)
    if kind == PDF:
        return pdf_prepare(data, source="pdf")
    if kind in IMAGES:
        long_side = settings.SCHOOLWORK["PAGE_LONG_SIDE"]
        return Prepared(source=source or "image", pages=[image_page(data, long_side)])
    if kind in OFFICE or (kind == "application/zip" and _looks_like_office(data)):
        return pdf_prepare(office_to_pdf(data), source="office")
    raise Refused(NOT_ALLOWED)


def _looks_like_office(data: bytes) -> bool:
    head = data[:4096]
    return b"mimetypeapplication/vnd.oasis" in head or b"[Content_Types].xml" in head


# Images -----------------------------------------------------------------------------------


def _open_image(data: bytes) -> Image.Image:
    limit = settings.SCHOOLWORK["MAX_IMAGE_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            width, height = image.size
            if width * height > limit:
                raise Refused(
                    f"Cette image est trop grande ({width} × {height} pixels) : "
                    f"{limit // 1_000_000} millions de pixels au plus. Elle n'a pas été envoyée."
                )
            if image.format not in ("JPEG", "PNG", "WEBP", "GIF"):
                raise Refused(NOT_ALLOWED)
            image.load()
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(
            f"Cette image est trop grande : {limit // 1_000_000} millions de pixels au plus. "
            "Elle n'a pas été envoyée."
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise Refused(CORRUPT_IMAGE) from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def encode_jpeg(image: Image.Image) -> bytes:
    """A fresh JPEG: no EXIF, no XMP, no ICC profile, no comment."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def image_page(data: bytes, long_side: int = PHOTO_LONG_SIDE) -> Page:
    image = _flatten(_open_image(data))
    image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    clean = Image.new("RGB", image.size)  # pixels only: nothing of the file travels on
    clean.paste(image)
    return Page(encode_jpeg(clean), clean.width, clean.height)


# PDF --------------------------------------------------------------------------------------


def pdf_check(data: bytes) -> int:
    """The page count of a sound, unencrypted PDF of at most ``MAX_PAGES`` pages."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise Refused(ENCRYPTED_PDF)
            count = len(pdf.pages)
    except pikepdf.PasswordError:
        raise Refused(ENCRYPTED_PDF) from None
    except (pikepdf.PdfError, ValueError, RecursionError):
        raise Refused(CORRUPT_PDF) from None
    limit = settings.SCHOOLWORK["MAX_PAGES"]
    if count > limit:
        raise Refused(
            f"Ce PDF a {count} pages : {limit} au plus. Il n'a pas été envoyé ; "
            "envoyez seulement les pages utiles."
        )
    if count == 0:
        raise Refused(CORRUPT_PDF)
    return count


def pdf_pages(data: bytes, long_side: int | None = None, render: int | None = None) -> list[Page]:
    """Each page's size on the tablet (long side ``PAGE_LONG_SIDE``) and its text; the
    image of pages up to ``render`` (all when None) rendered to a JPEG, the others left
    empty (``data=b""``) for ``render_page`` to make when first asked for."""
    import pypdfium2 as pdfium

    long_side = long_side or settings.SCHOOLWORK["PAGE_LONG_SIDE"]
    pages = []
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise Refused(CORRUPT_PDF) from None
    try:
        for number, page in enumerate(document, start=1):
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise Refused(CORRUPT_PDF)
            scale = long_side / max(width, height)
            textpage = page.get_textpage()
            text = " ".join(textpage.get_text_range().split())
            textpage.close()
            if render is None or number <= render:
                image = page.render(scale=scale).to_pil().convert("RGB")
                pages.append(Page(encode_jpeg(image), image.width, image.height, text[:20000]))
            else:
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                pages.append(Page(b"", size[0], size[1], text[:20000]))
            page.close()
    except pdfium.PdfiumError:
        raise Refused(CORRUPT_PDF) from None
    finally:
        document.close()
    return pages


def render_page(data: bytes, number: int, long_side: int | None = None) -> bytes:
    """Page ``number`` (from 1) of a checked PDF, as a JPEG."""
    import pypdfium2 as pdfium

    long_side = long_side or settings.SCHOOLWORK["PAGE_LONG_SIDE"]
    document = pdfium.PdfDocument(data)
    try:
        page = document[number - 1]
        width, height = page.get_size()
        image = page.render(scale=long_side / max(width, height)).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    return encode_jpeg(image)


def pdf_prepare(data: bytes, *, source: str) -> Prepared:
    """The first page is rendered at once, so the tablet shows it without waiting for the
    others; each other page is rendered when first asked for (``render_page``)."""
    pdf_check(data)
    return Prepared(source=source, pages=pdf_pages(data, render=1), original=data)


# Office -----------------------------------------------------------------------------------


def office_to_pdf(data: bytes) -> bytes:
    soffice = settings.SCHOOLWORK["SOFFICE"]
    if not soffice:
        raise Refused(NO_CONVERTER)
    with tempfile.TemporaryDirectory(prefix="cartable-office-") as tmp:
        source = Path(tmp) / "document"
        source.write_bytes(data)
        try:
            subprocess.run(  # noqa: S603 (fixed arguments, no shell)
                [
                    soffice,
                    "--headless",
                    "--norestore",
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    tmp,
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            raise Refused(CONVERSION_FAILED) from None
        converted = Path(tmp) / "document.pdf"
        if not converted.exists():
            raise Refused(CONVERSION_FAILED)
        return converted.read_bytes()
