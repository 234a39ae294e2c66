"""Small pieces every app's pages share."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET


def sign_in_redirect(request: HttpRequest, next_path: str | None = None) -> HttpResponse:
    """An anonymous visitor goes to sign in, then back to ``next_path`` (by default the page
    they asked for; a page whose query matters passes ``request.get_full_path()``)."""
    query = urlencode({"next": next_path or request.path}, safe="/")
    return redirect(f"{reverse('login')}?{query}")


def posted(request: HttpRequest, *, files: bool = False) -> tuple:
    """A form's data: what was posted (even nothing, which then gets its errors), or
    nothing for a GET."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


# The source of the running version (GNU AGPL v3, section 13) -----------------------------


@require_GET
def source(request: HttpRequest) -> HttpResponse:
    from django.conf import settings
    from django.shortcuts import render

    from .source import running_version

    context = {"version": running_version(), "repository": settings.SOURCE_URL}
    return render(request, "core/source.html", context)


@require_GET
def source_archive(request: HttpRequest) -> HttpResponse:
    from .source import archive, running_version

    response = HttpResponse(archive(), content_type="application/gzip")
    name = f"cartable-{running_version()}.tar.gz"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def source_licence(request: HttpRequest) -> HttpResponse:
    from .source import licence_text

    return HttpResponse(licence_text(), content_type="text/plain; charset=utf-8")


# Error pages, in French and in the site's layout -------------------------------------------
# The templates are cartable/templates/400.html, 403.html, 404.html and 500.html; Django's own
# handlers render 403, 404 and 500 (500 without a request context: its page needs none).


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """400: bad input. A ``Refused`` (``core.errors``) says what was wrong, in French."""
    from django.shortcuts import render

    from .errors import Refused

    message = exception.message if isinstance(exception, Refused) else None
    if request.path.startswith("/api/"):  # the API answers JSON, as its errors (cartable/api.py)
        from django.http import JsonResponse

        text = message or "Requête invalide."
        return JsonResponse({"code": "bad_request", "message": text}, status=400)
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        # A page's own fetch (the folder « Travail »): its error, as its views answer them.
        from django.http import JsonResponse

        return JsonResponse({"error": message or "Requête invalide."}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form sent without its anti-forgery token (an old page, cookies off)."""
    from django.shortcuts import render

    return render(request, "403.html", {"csrf": True}, status=403)
