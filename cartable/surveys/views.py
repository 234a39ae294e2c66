"""The questionnaire pages (open to whoever holds a valid link, no account needed) and the
coordinators' review of free texts.

The review goes through the access layer (``SURVEY_REVIEW`` on a département): an
anonymous visitor is sent to sign in; a signed-in person without it gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cartable.core.views import sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import Action, departments_for

from . import services
from .forms import SurveyForm
from .models import Respondent, SurveyAnswer

CLOSED_STATUS = {services.UNKNOWN: 404, services.USED: 409}


def _closed(request: HttpRequest, error: services.SurveyError) -> HttpResponse:
    message = str(error)
    status = CLOSED_STATUS.get(message, 410)  # the expiry message carries its number of days
    return render(request, "surveys/closed.html", {"message": message}, status=status)


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.find(token)
    except services.SurveyError as error:
        return _closed(request, error)
    kind = invitation.respondent_kind
    form = SurveyForm(request.POST or None, respondent_kind=kind)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.answer(token, form.answers())
            except services.SurveyError as error:
                return _closed(request, error)
            return redirect(
                reverse("surveys:thanks") + ("?eleve=1" if kind == Respondent.PUPIL else "")
            )
        status = 400
    template = "surveys/pupil.html" if kind == Respondent.PUPIL else "surveys/adult.html"
    context = {"form": form, "invitation": invitation}
    return render(request, template, context, status=status)


def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/thanks.html", {"pupil": request.GET.get("eleve") == "1"})


def _reviewable(request: HttpRequest):
    departments = departments_for(request_actor(request), Action.SURVEY_REVIEW)
    if not departments.exists():
        raise Http404
    return departments


@require_http_methods(["GET"])
def review_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    departments = _reviewable(request)
    pending = (
        SurveyAnswer.objects.filter(
            review=SurveyAnswer.Review.PENDING, response__department__in=departments
        )
        .select_related("response__department")
        .order_by("response__submitted_on", "question", "id")
    )
    rows = [
        {
            "id": item.pk,
            "question": item.get_question_display(),
            "kind": item.response.get_respondent_kind_display(),
            "department": item.response.department,
            "round": item.response.get_round_display(),
            "text": item.text,
        }
        for item in pending
    ]
    context = {"rows": rows, "departments": list(departments.order_by("code"))}
    return render(request, "surveys/review.html", context)


@require_POST
def review_decide(request: HttpRequest, answer_id) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    departments = _reviewable(request)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        messages.error(request, "Choisissez « Retenir » ou « Écarter ».")
        return redirect("surveys:review")
    try:
        services.review(answer_id, approve=decision == "approve", departments=departments)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "Texte retenu : il figurera dans les bilans."
            if decision == "approve"
            else "Texte écarté : il a été effacé.",
        )
    return redirect("surveys:review")
