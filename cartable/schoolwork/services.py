"""Handing work out, giving it back, correcting it: each step atomic (the rows and the
stored files together, or nothing), then announced on the loan's live link
(``work.changed``, the ``work`` message of docs/protocol.md)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from cartable.live.events import send_event

from . import content
from .content import Refused
from .models import Work, WorkFile

MAX_PHOTOS = 4
BAD_STROKES = "Le dessin envoyé n'est pas lisible : il n'a pas été enregistré."


class Stroke(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    page: int = Field(ge=1, le=1000)
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    width: float = Field(ge=0.5, le=60)
    points: list[tuple[float, float]] = Field(min_length=1, max_length=5000)


_strokes = TypeAdapter(list[Stroke])
MAX_POINTS = 200_000


def strokes_parse(text: str, page_count: int) -> list[dict]:
    """Strokes from the JSON a page sends; ``Refused`` when it is not a list of strokes on
    the work's pages (coordinates in 0..1)."""
    if not text:
        return []
    if "\x00" in text or len(text) > 4_000_000:
        raise Refused(BAD_STROKES)
    try:
        strokes = _strokes.validate_python(json.loads(text))
    except (ValueError, RecursionError, ValidationError):
        raise Refused(BAD_STROKES) from None
    if sum(len(s.points) for s in strokes) > MAX_POINTS:
        raise Refused(BAD_STROKES)
    for stroke in strokes:
        if stroke.page > page_count or any(
            not (0 <= x <= 1 and 0 <= y <= 1) for x, y in stroke.points
        ):
            raise Refused(BAD_STROKES)
    return [
        {
            "page": s.page,
            "colour": s.colour.lower(),
            "width": s.width,
            "points": [[round(x, 4), round(y, 4)] for x, y in s.points],
        }
        for s in strokes
    ]


class _Files:
    """Files written during one step, deleted again if the step fails."""

    def __init__(self):
        self.names: list[str] = []

    def add(self, work: Work, role: str, index: int, data: bytes, content_type: str, **extra):
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg"}[content_type]
        row = WorkFile(
            work=work, role=role, index=index, content_type=content_type, size=len(data), **extra
        )
        row.file.save(f"f.{extension}", ContentFile(data), save=False)
        self.names.append(row.file.name)
        row.save()
        return row

    def discard(self):
        storage = WorkFile._meta.get_field("file").storage
        for name in self.names:
            storage.delete(name)


def _atomic(step):
    files = _Files()
    try:
        with transaction.atomic():
            result = step(files)
    except BaseException:
        files.discard()
        raise
    return result


def _announce(work: Work, change: str) -> None:
    send_event(work.loan_id, "work.changed", work_id=work.pk, change=change, state=work.state)


def work_create(
    *,
    loan,
    by_user=None,
    kind: str,
    title: str,
    data: bytes,
    instructions: str = "",
    due_on: date | None = None,
    source: str | None = None,
) -> Work:
    """Check ``data`` (a PDF, an image, an office document) and hand it out."""
    prepared = content.prepare(data, source=source)

    def step(files: _Files) -> Work:
        work = Work.objects.create(
            loan=loan,
            kind=kind,
            title=title,
            instructions=instructions,
            due_on=due_on,
            source=prepared.source,
            page_count=len(prepared.pages),
            created_by=by_user if getattr(by_user, "is_authenticated", False) else None,
        )
        if prepared.original is not None:
            files.add(work, WorkFile.Role.ORIGINAL, 1, prepared.original, "application/pdf")
        for number, page in enumerate(prepared.pages, start=1):
            if not page.data:  # rendered when first asked for (page_file)
                WorkFile.objects.create(
                    work=work,
                    role=WorkFile.Role.PAGE,
                    index=number,
                    content_type="image/jpeg",
                    width=page.width,
                    height=page.height,
                    text=page.text,
                )
                continue
            files.add(
                work,
                WorkFile.Role.PAGE,
                number,
                page.data,
                "image/jpeg",
                width=page.width,
                height=page.height,
                text=page.text,
            )
        _announce(work, "handed_out")
        return work

    return _atomic(step)


def work_return(*, work: Work, strokes: str, answer: str, photos: list[bytes]) -> Work:
    """The pupil gives their work back: strokes on the pages, a typed answer, photos."""
    parsed = strokes_parse(strokes, work.page_count)
    if len(photos) > MAX_PHOTOS:
        raise Refused(f"{MAX_PHOTOS} photos au plus : rien n'a été envoyé.")
    pages = []
    for data in photos:
        if content.sniff(data) not in content.IMAGES:
            raise Refused("Une photo envoyée n'est pas une image : rien n'a été envoyé.")
        pages.append(content.image_page(data))

    def step(files: _Files) -> Work:
        locked = Work.objects.select_for_update().get(pk=work.pk)
        if pages:
            old = list(locked.files.filter(role=WorkFile.Role.PHOTO))
            for row in old:
                row.delete()  # its stored file goes once the transaction commits
            for number, page in enumerate(pages, start=1):
                files.add(
                    locked,
                    WorkFile.Role.PHOTO,
                    number,
                    page.data,
                    "image/jpeg",
                    width=page.width,
                    height=page.height,
                )
        locked.pupil_strokes = parsed
        locked.answer = answer
        locked.state = Work.State.RETURNED
        locked.returned_at = timezone.now()
        locked.save()
        _announce(locked, "returned")
        return locked

    return _atomic(step)


def work_correct(*, work: Work, strokes: str, comment: str) -> Work:
    parsed = strokes_parse(strokes, work.page_count)
    with transaction.atomic():
        locked = Work.objects.select_for_update().get(pk=work.pk)
        locked.teacher_strokes = parsed
        locked.comment = comment
        locked.state = Work.State.CORRECTED
        locked.corrected_at = timezone.now()
        locked.save()
        _announce(locked, "corrected")
    return locked


def page_file(row: WorkFile) -> WorkFile:
    """``row`` with its image: a PDF's page after the first is rendered from the checked
    original the first time someone asks for it (once, under a row lock)."""
    if row.file:
        return row

    def step(files: _Files) -> WorkFile:
        locked = WorkFile.objects.select_for_update().get(pk=row.pk)
        if locked.file:
            return locked
        original = WorkFile.objects.get(work_id=locked.work_id, role=WorkFile.Role.ORIGINAL)
        with original.file.open("rb") as handle:
            data = content.render_page(handle.read(), locked.index)
        locked.file.save("f.jpg", ContentFile(data), save=False)
        files.names.append(locked.file.name)
        locked.size = len(data)
        locked.save(update_fields=["file", "size"])
        return locked

    return _atomic(step)


# Flattened PDF -----------------------------------------------------------------------------


def flattened_pdf(work: Work) -> bytes:
    """The pages with both people's strokes drawn on them, as one PDF (Pillow)."""
    images = []
    strokes = [*work.pupil_strokes, *work.teacher_strokes]
    for row in work.files.filter(role=WorkFile.Role.PAGE).order_by("index"):
        row = page_file(row)
        with row.file.open("rb") as handle:
            image = Image.open(io.BytesIO(handle.read())).convert("RGB")
        draw = ImageDraw.Draw(image)
        scale = max(image.size) / 1000  # stroke widths are in thousandths of the long side
        for stroke in strokes:
            if stroke["page"] != row.index:
                continue
            points = [(x * image.width, y * image.height) for x, y in stroke["points"]]
            width = max(1, round(stroke["width"] * scale))
            if len(points) == 1:
                x, y = points[0]
                r = width / 2
                draw.ellipse((x - r, y - r, x + r, y + r), fill=stroke["colour"])
            else:
                draw.line(points, fill=stroke["colour"], width=width, joint="curve")
        images.append(image)
    out = io.BytesIO()
    if images:
        images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


# Privacy ------------------------------------------------------------------------------------


def retention() -> timedelta:
    return timedelta(days=settings.SCHOOLWORK["RETENTION_DAYS"])


def purge(now: datetime) -> dict[str, int]:
    """Work of loans over for longer than the retention period: rows and files deleted."""
    from cartable.privacy.services import loans_over

    over = loans_over(timezone.localdate(now) - retention())
    works = Work.objects.filter(loan__in=over)
    count = works.count()
    works.delete()  # each WorkFile's stored file is deleted once this commits (signals.py)
    return {"supprimés": count}


def _iso(value):
    return None if value is None else value.isoformat()


def loan_export(loan) -> list[dict]:
    """The loan's work, for the pupil's data export (files listed; their content is in the
    folder « Travail » and in the flattened PDF)."""
    rows = []
    for work in Work.objects.filter(loan=loan).order_by("created_at").prefetch_related("files"):
        rows.append(
            {
                "titre": work.title,
                "type": work.get_kind_display(),
                "état": work.get_state_display(),
                "consigne": work.instructions,
                "à faire pour le": _iso(work.due_on),
                "distribué le": _iso(work.created_at),
                "rendu le": _iso(work.returned_at),
                "corrigé le": _iso(work.corrected_at),
                "réponse de l'élève": work.answer,
                "remarque de l'enseignant": work.comment,
                "traits de l'élève": work.pupil_strokes,
                "traits de l'enseignant": work.teacher_strokes,
                "fichiers": [
                    {
                        "fichier": row.get_role_display(),
                        "numéro": row.index,
                        "type": row.content_type,
                        "taille": row.size,
                        "texte": row.text,
                    }
                    for row in work.files.all()
                ],
            }
        )
    return rows
