"""Template tags for other apps' pages: the class station's reminders, and a link to a
loan's authorisations for those who may record them."""

from __future__ import annotations

from django import template

from cartable.organisation.access import Action, Actor, can

from .. import services

register = template.Library()


def _actor(context) -> Actor:
    from cartable.live.views import request_actor

    return request_actor(context["request"])


@register.inclusion_tag("consent/_station.html", takes_context=True)
def consent_station(context, loan):
    """What is missing before a live session can start, and the frame reminder."""
    missing = services.missing_records(loan)
    may_agree = bool(missing) and can(_actor(context), Action.CONSENT_TEACHER, loan)
    return {
        "loan": loan,
        "missing": missing,
        "may_agree": may_agree,
        "frame": services.frame_reminder(loan),
    }


@register.simple_tag(takes_context=True)
def may_record_consent(context, loan) -> bool:
    return can(_actor(context), Action.CONSENT_MANAGE, loan)
