"""The review report as a PDF for the steering committee, drawn by WeasyPrint from the
page's own template (its print variant): the same tables, the same SVG charts, the same
« < 5 ». The PDF is tagged (its structure readable by screen readers); system fonts only
(DejaVu on Debian), and WeasyPrint fetches nothing: the stylesheet is read from the app's
static files and every other address is refused.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from cartable.organisation.access import Actor

from . import report
from .scope import Period, Scope

# WeasyPrint logs every step at INFO level: keep the server's log for what matters.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"le rapport PDF ne charge aucune ressource extérieure ({url[:80]})")


def render_html(period: Period, scope: Scope, built=None) -> str:
    return render_to_string(
        "evaluation/report_pdf.html",
        {
            "period": period,
            "scope": scope,
            "report": built or report.build(period, scope),
            "made_at": timezone.localtime(),
            "print": True,
        },
    )


def render_pdf(period: Period, scope: Scope, actor: Actor | None = None) -> bytes:
    """The PDF's bytes. ``actor`` is who asked (their scope was checked before: the report
    names no one, so it is the same for everyone who may see ``scope``)."""
    from weasyprint import CSS, HTML

    stylesheet = Path(finders.find("evaluation/print.css")).read_text(encoding="utf-8")
    document = HTML(string=render_html(period, scope), url_fetcher=_refuse, base_url="/")
    # Tagged: headings, tables and their header cells are structure for screen readers.
    return document.write_pdf(
        stylesheets=[CSS(string=stylesheet, url_fetcher=_refuse)], pdf_tags=True
    )
