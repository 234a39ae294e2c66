"""Refusals of bad input, with a message in French for the person who sent it.

A view (or a middleware) raises ``Refused("…")``: Django answers 400 through
``core.views.bad_request``, which shows the message in the site's layout. The API turns the
ones it meets into its JSON 422 (``cartable/api.py``).
"""

from __future__ import annotations

from django.core.exceptions import BadRequest

NUL_REFUSED = "Caractère nul (U+0000) refusé : il ne peut figurer dans aucun champ ni adresse."


class Refused(BadRequest):
    """Bad input, refused with ``message`` (French) and HTTP 400."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def has_nul(value) -> bool:
    """Whether a text (or any text inside a list, tuple or dict) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class NulRefused(ValueError):
    """A model saved with a NUL in one of its texts (``refuse_nul_on_save``)."""


def refuse_nul_on_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """``pre_save`` of every model: a text field holding NUL raises ``NulRefused`` before
    the database sees it. The pages refuse NUL earlier (``RefuseNulMiddleware``), and the
    imports (``core.spreadsheet``), which write with ``bulk_create``, do too."""
    from django.db import models

    for field in sender._meta.concrete_fields:
        if update_fields is not None and field.name not in update_fields:
            continue
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(instance, field.attname, None)
            if isinstance(value, str) and "\x00" in value:
                raise NulRefused(f"{sender.__name__}.{field.name} : {NUL_REFUSED}")
