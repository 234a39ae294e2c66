"""The folder « Travail » of a loan, its documents and their files.

Every view asks ``access.can`` for the loan of the work (``WORK_*`` actions): the class's
teachers, the APADHE teacher of the loan, the département's coordinator (to see), the kit's
class station and the pupil's paired tablet. Everyone else gets 404, which names nothing:
no title, no file name. Files are streamed by ``work_file`` only, never from a public URL,
and each open of a work by a person (staff) is written to the audit log.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cartable.core.views import sign_in_redirect
from cartable.fleet.models import Loan
from cartable.live.views import request_actor
from cartable.organisation.access import Action, can
from cartable.privacy import audit

from . import content, services
from .content import Refused
from .forms import CorrectForm, HandOutForm, ReturnForm
from .models import Work, WorkFile

log = logging.getLogger("cartable.schoolwork")

TOO_BIG_STATUS = 413
NOT_SENT = "L'envoi est refusé : rien n'a été enregistré."


def _loan(request: HttpRequest, loan_id: int, action: Action) -> Loan:
    loan = Loan.objects.select_related("pupil", "school_class").filter(pk=loan_id).first()
    if loan is None or not can(request_actor(request), action, loan):
        raise Http404
    return loan


def _work(request: HttpRequest, work_id: int, action: Action) -> Work:
    work = Work.objects.select_related("loan").filter(pk=work_id).first()
    if work is None or not can(request_actor(request), action, work.loan):
        raise Http404
    return work


def _is_person(request) -> bool:
    return request.user.is_authenticated


def _audit_open(request, work: Work, detail: str) -> None:
    # A person opening a pupil's work is audited; the pupil's own tablet is not a person.
    if _is_person(request):
        audit.record(request, audit.Verb.VIEW, work, detail=detail)


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _too_big(request) -> bool:
    return getattr(request, "_schoolwork_too_big", False)


def work_json(work: Work) -> dict:
    files = {row.slug: row for row in work.files.all()}
    base = reverse("schoolwork:work", args=[work.pk])

    def url(row):
        return f"{base}fichier/{row.slug}"

    pages = sorted(
        (row for row in files.values() if row.role == WorkFile.Role.PAGE), key=lambda r: r.index
    )
    photos = sorted(
        (row for row in files.values() if row.role == WorkFile.Role.PHOTO), key=lambda r: r.index
    )
    return {
        "id": work.pk,
        "title": work.title,
        "kind": work.kind,
        "state": work.state,
        "state_label": work.get_state_display(),
        "instructions": work.instructions,
        "due_on": work.due_on.isoformat() if work.due_on else None,
        "created_at": work.created_at.isoformat(),
        "returned_at": work.returned_at.isoformat() if work.returned_at else None,
        "pages": [
            {"url": url(row), "width": row.width, "height": row.height, "text": row.text}
            for row in pages
        ],
        "photos": [{"url": url(row)} for row in photos],
        "answer": work.answer,
        "comment": work.comment,
        "pupil_strokes": work.pupil_strokes,
        "teacher_strokes": work.teacher_strokes,
        "pdf": f"{base}annote.pdf",
    }


def _summary(work: Work) -> dict:
    return {
        "id": work.pk,
        "title": work.title,
        "kind": work.kind,
        "state": work.state,
        "state_label": work.get_state_display(),
        "due_on": work.due_on.isoformat() if work.due_on else None,
        "created_at": work.created_at.isoformat(),
        "url": reverse("schoolwork:viewer", args=[work.pk]),
    }


@require_GET
def folder(request: HttpRequest, loan_id: int) -> HttpResponse:
    """The folder « Travail »: by date, what was handed out and what came back."""
    actor = request_actor(request)
    if not _is_person(request) and actor.device is None:
        return sign_in_redirect(request)
    loan = _loan(request, loan_id, Action.WORK_VIEW)
    works = Work.objects.filter(loan=loan).order_by("-created_at", "-pk")
    if _is_person(request):
        audit.record(request, audit.Verb.VIEW, loan, detail="dossier Travail")
    return render(
        request,
        "schoolwork/folder.html",
        {
            "loan": loan,
            "works": works,
            "may_hand_out": can(actor, Action.WORK_HAND_OUT, loan),
            "form": HandOutForm(),
            "max_mb": settings.SCHOOLWORK["MAX_UPLOAD_BYTES"] // (1024 * 1024),
            "today": timezone.localdate(),
        },
    )


@require_GET
def folder_json(request: HttpRequest, loan_id: int) -> JsonResponse:
    loan = _loan(request, loan_id, Action.WORK_VIEW)
    works = Work.objects.filter(loan=loan).order_by("-created_at", "-pk")
    return JsonResponse({"works": [_summary(work) for work in works]})


@require_POST
def hand_out(request: HttpRequest, loan_id: int) -> HttpResponse:
    """« Envoyer à l'élève »: a file, a photo from the camera or a still of the board."""
    loan = _loan(request, loan_id, Action.WORK_HAND_OUT)
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = HandOutForm(request.POST)
    upload = request.FILES.get("file")

    def refuse(message: str, status: int = 400) -> HttpResponse:
        log.info("schoolwork hand-out refused loan=%s", loan.pk)
        if wants_json:
            return _error(message, status)
        works = Work.objects.filter(loan=loan).order_by("-created_at", "-pk")
        return render(
            request,
            "schoolwork/folder.html",
            {
                "loan": loan,
                "works": works,
                "may_hand_out": True,
                "form": form,
                "error": message,
                "max_mb": settings.SCHOOLWORK["MAX_UPLOAD_BYTES"] // (1024 * 1024),
            },
            status=status,
        )

    if _too_big(request):
        return refuse(content.too_big_message(), TOO_BIG_STATUS)
    if not form.is_valid():
        return refuse("Le formulaire contient une erreur : " + _first_error(form))
    if upload is None:
        return refuse("Choisissez un fichier, ou prenez une photo, avant d'envoyer.")
    if upload.size > settings.SCHOOLWORK["MAX_UPLOAD_BYTES"]:
        return refuse(content.too_big_message(), TOO_BIG_STATUS)
    data = form.cleaned_data
    due_on = data["due_on"]
    kind = data["kind"] or (Work.Kind.SET if due_on else Work.Kind.HANDED_OUT)
    source = data["source"] or None
    title = data["title"] or _default_title(source)
    try:
        work = services.work_create(
            loan=loan,
            by_user=request.user,
            kind=kind,
            title=title,
            data=upload.read(),
            instructions=data["instructions"],
            due_on=due_on,
            source=source,
        )
    except Refused as exc:
        return refuse(exc.message)
    if _is_person(request):
        audit.record(request, audit.Verb.CREATE, work, detail="document distribué")
    if wants_json:
        return JsonResponse({"work": work_json(work)}, status=201)
    return redirect("schoolwork:folder", loan_id=loan.pk)


def _first_error(form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""


def _default_title(source: str | None) -> str:
    day = timezone.localdate().strftime("%d/%m")
    if source == "board":
        return f"Photo du tableau du {day}"
    if source == "photo":
        return f"Photo du {day}"
    return f"Document du {day}"


@require_GET
def work_detail(request: HttpRequest, work_id: int) -> JsonResponse:
    work = _work(request, work_id, Action.WORK_VIEW)
    _audit_open(request, work, "travail ouvert")
    return JsonResponse({"work": work_json(work)})


@require_GET
def viewer(request: HttpRequest, work_id: int) -> HttpResponse:
    """The document full screen: the pupil draws and returns it; the teacher corrects it."""
    actor = request_actor(request)
    if not _is_person(request) and actor.device is None:
        return sign_in_redirect(request)
    work = _work(request, work_id, Action.WORK_VIEW)
    side = "pupil" if can(actor, Action.WORK_RETURN, work.loan) else "teacher"
    if side == "teacher" and not can(actor, Action.WORK_CORRECT, work.loan):
        side = "reader"  # the coordinator sees, never writes
    _audit_open(request, work, "travail ouvert")
    return render(request, "schoolwork/viewer.html", {"work": work, "side": side})


@require_GET
def work_file(request: HttpRequest, work_id: int, slug: str) -> FileResponse:
    """One file of a work, for its loan's members only (checked on every request)."""
    work = _work(request, work_id, Action.WORK_VIEW)
    role, _, number = slug.partition("-")
    if role not in WorkFile.Role.values or (number and not (number.isascii() and number.isdigit())):
        raise Http404
    row = work.files.filter(role=role, index=int(number or 1)).first()
    if row is None:
        raise Http404
    if row.role == WorkFile.Role.PAGE:
        row = services.page_file(row)
    response = FileResponse(row.file.open("rb"), content_type=row.content_type)
    # No file name, ever; private to this browser.
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def flattened(request: HttpRequest, work_id: int) -> HttpResponse:
    work = _work(request, work_id, Action.WORK_VIEW)
    _audit_open(request, work, "PDF annoté téléchargé")
    response = HttpResponse(services.flattened_pdf(work), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="travail-{work.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def give_back(request: HttpRequest, work_id: int) -> JsonResponse:
    """« Rendre mon travail », from the pupil's tablet."""
    work = _work(request, work_id, Action.WORK_RETURN)
    if _too_big(request):
        return _error(content.too_big_message(), TOO_BIG_STATUS)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _error(services.BAD_STROKES if "strokes" in form.errors else _first_error(form))
    photos = request.FILES.getlist("photo")
    if any(photo.size > settings.SCHOOLWORK["MAX_UPLOAD_BYTES"] for photo in photos):
        return _error(content.too_big_message(), TOO_BIG_STATUS)
    try:
        work = services.work_return(
            work=work,
            strokes=form.cleaned_data["strokes"],
            answer=form.cleaned_data["answer"],
            photos=[photo.read() for photo in photos],
        )
    except Refused as exc:
        return _error(exc.message)
    return JsonResponse({"work": work_json(work)})


@require_POST
def correct(request: HttpRequest, work_id: int) -> JsonResponse:
    """The teacher's annotations, in another colour, handed back to the pupil."""
    work = _work(request, work_id, Action.WORK_CORRECT)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        return _error(services.BAD_STROKES if "strokes" in form.errors else _first_error(form))
    try:
        work = services.work_correct(
            work=work, strokes=form.cleaned_data["strokes"], comment=form.cleaned_data["comment"]
        )
    except Refused as exc:
        return _error(exc.message)
    if _is_person(request):
        audit.record(request, audit.Verb.UPDATE, work, detail="travail corrigé")
    return JsonResponse({"work": work_json(work)})


@require_GET
def pupil_folder(request: HttpRequest) -> HttpResponse:
    """The pupil's tablet: its loan's folder, also outside a lesson."""
    actor = request_actor(request)
    device = actor.device
    if device is None or device.kind != "pupil_tablet":
        return redirect("live:pair")
    return redirect("schoolwork:folder", loan_id=device.loan_id)
