"""Small pieces every app's pages share."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


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
