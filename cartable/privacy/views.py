"""Pages of the data protection officer (the processing register, the audit log, people's
rights on a pupil's data) and the public notices for families and pupils.

Rights come from the access layer (``Action.AUDIT_VIEW``, ``Action.RIGHTS_MANAGE``): an
anonymous visitor is sent to sign in, anyone else without the right gets 404."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cartable.core.views import sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import Action, can
from cartable.organisation.models import Pupil

from . import audit, services
from .forms import AuditFilterForm, ErasureForm, PupilSearchForm
from .models import AUDIT_RETENTION_DAYS, AuditEntry
from .register import COLUMNS, declarations

PAGE_SIZE = 50


def _denied(request: HttpRequest, action: Action) -> HttpResponse | None:
    """A sign-in redirect for an anonymous visitor; 404 for anyone without ``action``."""
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    if not can(request_actor(request), action):
        raise Http404
    return None


def _pupil(pupil_id: int) -> Pupil:
    pupil = Pupil.objects.select_related("school_class__school").filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    return pupil


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if (refused := _denied(request, Action.AUDIT_VIEW)) is not None:
        return refused
    return render(
        request,
        "privacy/index.html",
        {"may_rights": can(request_actor(request), Action.RIGHTS_MANAGE)},
    )


@require_GET
def register(request: HttpRequest) -> HttpResponse:
    if (refused := _denied(request, Action.AUDIT_VIEW)) is not None:
        return refused
    return render(
        request,
        "privacy/register.html",
        {"declarations": declarations(), "columns": COLUMNS},
    )


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if (refused := _denied(request, Action.AUDIT_VIEW)) is not None:
        return refused
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.all()
    status = 200
    if request.GET:
        if form.is_valid():
            data = form.cleaned_data
            if data["person"] is not None:
                entries = entries.filter(user_id=data["person"])
            if data["action"]:
                entries = entries.filter(action=data["action"])
            if data["object_type"]:
                entries = entries.filter(object_type=data["object_type"])
            if data["since"]:
                entries = entries.filter(
                    at__gte=timezone.make_aware(datetime.combine(data["since"], time.min))
                )
            if data["until"]:
                end = datetime.combine(data["until"] + timedelta(days=1), time.min)
                entries = entries.filter(at__lt=timezone.make_aware(end))
        else:
            entries = AuditEntry.objects.none()
            status = 400
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    users = dict(
        get_user_model()
        .objects.filter(pk__in={e.user_id for e in page.object_list if e.user_id})
        .values_list("pk", "email")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [(entry, users.get(entry.user_id)) for entry in page.object_list],
        "query": query.urlencode(),
        "retention_days": AUDIT_RETENTION_DAYS,
    }
    return render(request, "privacy/audit_log.html", context, status=status)


@require_GET
def rights_search(request: HttpRequest) -> HttpResponse:
    if (refused := _denied(request, Action.RIGHTS_MANAGE)) is not None:
        return refused
    form = PupilSearchForm(request.GET or None)
    results = None
    status = 200
    if request.GET:
        if form.is_valid():
            results = list(services.pupils_find(**form.cleaned_data)[:50])
        else:
            status = 400
    return render(
        request, "privacy/rights_search.html", {"form": form, "results": results}, status=status
    )


@require_GET
def pupil_data(request: HttpRequest, pupil_id: int) -> HttpResponse:
    if (refused := _denied(request, Action.RIGHTS_MANAGE)) is not None:
        return refused
    pupil = _pupil(pupil_id)
    tree = as_tree(services.pupil_export(pupil))
    audit.record(request, audit.Verb.EXPORT, pupil, detail="page")
    return render(request, "privacy/pupil_data.html", {"pupil": pupil, "tree": tree})


def as_tree(value) -> dict:
    """The export as nodes a template can walk: maps, lists and texts."""
    if isinstance(value, dict):
        return {"kind": "map", "items": [(key, as_tree(v)) for key, v in value.items()]}
    if isinstance(value, list | tuple):
        return {"kind": "list", "items": [as_tree(v) for v in value]}
    if value is None:
        return {"kind": "text", "text": "—"}
    if isinstance(value, bool):
        return {"kind": "text", "text": "oui" if value else "non"}
    return {"kind": "text", "text": str(value)}


@require_GET
def pupil_json(request: HttpRequest, pupil_id: int) -> HttpResponse:
    if (refused := _denied(request, Action.RIGHTS_MANAGE)) is not None:
        return refused
    pupil = _pupil(pupil_id)
    data = services.pupil_export(pupil)
    audit.record(request, audit.Verb.EXPORT, pupil, detail="json")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="eleve-{pupil.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
def pupil_erase(request: HttpRequest, pupil_id: int) -> HttpResponse:
    if (refused := _denied(request, Action.RIGHTS_MANAGE)) is not None:
        return refused
    pupil = _pupil(pupil_id)
    form = ErasureForm(request.POST if request.method == "POST" else None, pupil=pupil)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["mode"] == "erase":
                services.pupil_erase(pupil=pupil, by=request.user)
                done = "Les données de l'élève sont effacées."
            else:
                services.pupil_pseudonymise(pupil=pupil, by=request.user)
                done = "Le prénom de l'élève est retiré : ses données sont pseudonymisées."
        except services.RightsRefused as exc:
            error = exc.message
        else:
            messages.success(request, done)
            return redirect("privacy:rights_search")
    status = 400 if form.errors else 409 if error else 200
    return render(
        request,
        "privacy/pupil_erase.html",
        {"pupil": pupil, "form": form, "error": error},
        status=status,
    )


def _notice_context() -> dict:
    return {
        "weeks": settings.PRIVACY["PUPIL_NAME_WEEKS"],
        "declarations": {d.key: d for d in declarations()},
    }


@require_GET
def notice_families(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/notice_families.html", _notice_context())


@require_GET
def notice_pupils(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/notice_pupils.html", _notice_context())
