"""Continuous reporting pages: a kit's page, the fleet overview of a scope, and the
registers' downloads (``Action.KIT_TRACK``).

The fleet team and the national level follow every kit; a DANE the kits lent in their
académie, a coordinator those lent in their département. A scope is chosen with the GET
parameters ``academie`` and ``departement`` (codes, ``cartable.core.scope``: a value that
cannot be a code answers 400), checked against the person's own; a
scope or a kit outside theirs answers 404, as does any page to someone who may follow no
kit. An anonymous visitor is sent to sign in. No page or file names a pupil.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cartable.core.scope import scope_codes
from cartable.core.views import sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import Action, Actor, can

from . import exports, reports
from .models import Kit


def _scope(request: HttpRequest, actor: Actor) -> reports.Scope:
    codes = scope_codes(request.GET)  # a code that cannot be one: 400 (ScopeRefused)
    scope = reports.scope_for(
        actor, academy_code=codes.academy or "", department_code=codes.department or ""
    )
    if scope is None:
        raise Http404
    return scope


def _kit_manage_context(actor: Actor, kit: Kit) -> dict:
    """The fleet register's management fragment, for those who may manage the fleet."""
    try:
        from .views_register import kit_manage_context
    except ImportError:  # the register's views are not installed
        return {}
    return kit_manage_context(actor, kit)


@require_GET
def kit(request: HttpRequest, kit_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    found = Kit.objects.filter(pk=kit_id).first()
    if found is None or not can(actor, Action.KIT_TRACK, found):
        raise Http404
    context = {
        "timeline": reports.kit_timeline(actor, found),
        "kit": found,
        "may_manage": can(actor, Action.FLEET_MANAGE, found),
        "reclaim_days": settings.FLEET["RECLAIM_AFTER_SCHOOL_DAYS"],
    }
    if context["may_manage"]:
        context.update(_kit_manage_context(actor, found))
    return render(request, "fleet/kit.html", context)


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    scope = _scope(request, actor)
    query = urlencode(scope.params)
    downloads = [
        {
            "kind": kind,
            "title": register.title,
            "links": [
                (
                    fmt.upper(),
                    reverse("fleet:register_export", args=[kind, fmt])
                    + (f"?{query}" if query else ""),
                )
                for fmt in exports.CONTENT_TYPES
            ],
        }
        for kind, register in exports.REGISTERS.items()
    ]
    return render(
        request,
        "fleet/overview.html",
        {
            "overview": reports.overview(scope),
            "scope": scope,
            "choices": reports.scope_choices(actor),
            "downloads": downloads,
            "reclaim_days": settings.FLEET["RECLAIM_AFTER_SCHOOL_DAYS"],
            "offline_hours": settings.FLEET["OFFLINE_AFTER_HOURS"],
        },
    )


@require_GET
def register_export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    if kind not in exports.REGISTERS or fmt not in exports.CONTENT_TYPES:
        raise Http404
    actor = request_actor(request)
    scope = _scope(request, actor)
    now = timezone.now()
    response = HttpResponse(
        exports.render(kind, fmt, scope, now), content_type=exports.CONTENT_TYPES[fmt]
    )
    name = exports.filename(kind, fmt, scope, timezone.localdate(now))
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
