"""The review report of a period and a scope: its page, its PDF and its data files.

The GET parameters ``annee`` (``2025-2026``), ``academie`` and ``departement`` (codes) choose
the report; without them it is the current school year and the widest scope the person may
see (``scope.resolve``). A code that cannot be one answers 400; a scope outside one's rights
answers 404, as does every page to someone who may see no figures (a teacher, the fleet
team…); an anonymous visitor is sent to sign in. Above a single school every count under 5
shows as « < 5 », here and in every file.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from cartable.core.scope import scope_codes
from cartable.core.views import sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import Actor

from . import exports, report
from . import scope as scopes


def _scope(request: HttpRequest, actor: Actor) -> scopes.Scope:
    codes = scope_codes(request.GET)  # a code that cannot be one: 400 (ScopeRefused)
    return scopes.resolve(actor, codes.academy, codes.department)


def _params(period: scopes.Period, scope: scopes.Scope) -> dict:
    params = {"annee": f"{period.start.year}-{period.end.year}"}
    if scope.level == scopes.DEPARTMENT:
        params["departement"] = scope.department.code
    elif scope.level == scopes.ACADEMY:
        params["academie"] = scope.academy.code
    return params


def _years(period: scopes.Period | None) -> list[tuple[str, str]]:
    """The school years the selector offers: the current one and the four before it (and
    the one shown, if older)."""
    current = scopes.current_school_year().start.year
    starts = set(range(current - 4, current + 1))
    if period is not None:
        starts.add(period.start.year)
    return [(f"{y}-{y + 1}", f"{y}-{y + 1}") for y in sorted(starts, reverse=True)]


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request, request.get_full_path())
    actor = request_actor(request)
    scope = _scope(request, actor)
    choices = scopes.choices_for(actor)
    context = {
        "scope": scope,
        "choices": choices,
        "several_scopes": choices["national"]
        + len(choices["academies"])
        + len(choices["departments"])
        > 1,
    }
    try:
        period = scopes.parse_period(request.GET.get("annee", "").strip())
    except ValueError as error:
        context.update(error=str(error), years=_years(None), year="")
        return render(request, "evaluation/report.html", context, status=400)
    query = urlencode(_params(period, scope))
    context.update(
        period=period,
        year=f"{period.start.year}-{period.end.year}",
        years=_years(period),
        report=report.build(period, scope),
        pdf_url=f"{reverse('evaluation:report_pdf')}?{query}",
        data_links=[
            (fmt.upper(), f"{reverse('evaluation:report_data', args=[fmt])}?{query}")
            for fmt in exports.CONTENT_TYPES
        ],
    )
    return render(request, "evaluation/report.html", context)


def _download(request: HttpRequest, make) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request, request.get_full_path())
    actor = request_actor(request)
    scope = _scope(request, actor)
    try:
        period = scopes.parse_period(request.GET.get("annee", "").strip())
    except ValueError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    content, content_type, name = make(period, scope, actor)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    from . import pdf

    def make(period, scope, actor):
        return (
            pdf.render_pdf(period, scope, actor),
            "application/pdf",
            exports.filename(period, scope, "pdf"),
        )

    return _download(request, make)


@require_GET
def report_data(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in exports.CONTENT_TYPES:
        raise Http404

    def make(period, scope, actor):
        return (
            exports.render(report.build(period, scope), fmt),
            exports.CONTENT_TYPES[fmt],
            exports.filename(period, scope, fmt),
        )

    return _download(request, make)
