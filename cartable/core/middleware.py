"""Middleware every page and API answer goes through.

- ``RefuseNulMiddleware``: a NUL character (U+0000) in the path, a query parameter, a posted
  field or an uploaded file's name is refused with a French 400 before any view runs.
  PostgreSQL cannot store NUL in text and SQLite stores it silently; no field of the
  platform means it. (JSON bodies are checked by the API's schemas, files by
  ``core.spreadsheet``.)
- ``PrivacyHeadersMiddleware``: every answer to someone signed in (a person's session, a
  device's credential) is ``Cache-Control: private, no-store``: pages and files that name
  pupils stay out of shared and browser caches. Every answer carries a
  ``Permissions-Policy`` that turns the camera and the microphone off, except the pages
  marked ``@uses_camera`` (the class's station and the pupil's page), which may use them
  from this origin only.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.utils.cache import patch_cache_control

from .errors import NUL_REFUSED, Refused

# Features no page of the platform uses, and the two only the live pages may.
_NEVER = ("geolocation", "payment", "usb", "serial", "bluetooth", "display-capture")
_NEVER += ("interest-cohort", "browsing-topics")
PERMISSIONS_POLICY = ", ".join(f"{name}=()" for name in ("camera", "microphone", *_NEVER))
PERMISSIONS_POLICY_MEDIA = ", ".join(
    ["camera=(self)", "microphone=(self)", *(f"{name}=()" for name in _NEVER)]
)


def uses_camera(view):
    """Mark a page that opens the camera or the microphone (this origin only)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Permissions-Policy"] = PERMISSIONS_POLICY_MEDIA
        return response

    return wrapped


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul_field(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in data.getlist(key)) for key in data)


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul_field(request.GET):
            raise Refused(NUL_REFUSED)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            names = (file.name or "" for file in request.FILES.values())
            if _has_nul_field(request.POST) or any("\x00" in name for name in names):
                raise Refused(NUL_REFUSED)
        return self.get_response(request)


class PrivacyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = (
            (user is not None and user.is_authenticated)
            or settings.DEVICE_COOKIE_NAME in request.COOKIES
            or "HTTP_AUTHORIZATION" in request.META
        )
        if signed_in:
            patch_cache_control(response, private=True, no_store=True)
            response.headers.pop("Expires", None)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
