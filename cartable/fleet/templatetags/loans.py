"""Template filters over the loan's life cycle (``fleet.models.LOAN_STEPS``), so templates
offer a step exactly when the services allow it: ``{% if loan|may:"install_class" %}``."""

from django import template

from cartable.fleet.models import loan_may

register = template.Library()


@register.filter
def may(loan, step: str) -> bool:
    return loan_may(loan, step)
