"""The authorisations page of a loan (the département's coordinator) and the page where a
teacher of the class gives their own agreement.

Every check goes through the access layer: an anonymous visitor is sent to sign in, a
signed-in person without the right, or a loan outside their scope, gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.views.decorators.http import require_http_methods

from cartable.core.views import sign_in_redirect
from cartable.fleet.models import Loan
from cartable.live.views import request_actor
from cartable.organisation.access import Action, can
from cartable.privacy import audit

from . import services
from .forms import (
    FORMS,
    FamiliesForm,
    FrameForm,
    GuardiansForm,
    OwnAgreementForm,
    PupilForm,
    TeacherForm,
)
from .models import (
    FamiliesInformed,
    FrameExclusion,
    GuardianAuthorisation,
    PupilAgreement,
    TeacherAgreement,
)
from .wordings import WORDINGS, wording_for

SAVED = {
    "guardians": "Autorisation des représentants légaux enregistrée.",
    "pupil": "Accord de l'élève enregistré.",
    "teacher": "Accord de l'enseignant·e enregistré.",
    "families": "Information des familles enregistrée.",
    "frame": "Réponse sur le cadrage de la caméra enregistrée.",
}


def _loan_for(request: HttpRequest, loan_id: int, action: Action) -> Loan:
    loan = (
        Loan.objects.select_related("pupil", "school_class__school", "kit")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None or not can(request_actor(request), action, loan):
        raise Http404
    return loan


def _forms(loan, bound=None) -> dict:
    forms = {
        "guardians": GuardiansForm(),
        "pupil": PupilForm(),
        "teacher": TeacherForm(loan=loan),
        "families": FamiliesForm(),
        "frame": FrameForm(),
    }
    if bound is not None:
        forms[bound.record] = bound
    return forms


def _write(record: str, form, loan, by):
    data = form.cleaned_data
    if record == "guardians":
        return services.guardians_record(
            loan=loan,
            by=by,
            signed_on=data["signed_on"],
            signed_as=data["signed_as"],
            method=data["method"],
        )
    if record == "pupil":
        return services.pupil_record(
            loan=loan, by=by, agreed_on=data["agreed_on"], method=data["method"]
        )
    if record == "teacher":
        return services.teacher_record(
            loan=loan, by=by, agreed_on=data["agreed_on"], teacher=data["teacher"]
        )
    if record == "families":
        return services.families_record(
            loan=loan, by=by, informed_on=data["informed_on"], channel=data["channel"]
        )
    return services.frame_record(
        loan=loan, by=by, required=data["required"] == "yes", count=data["count"]
    )


def _who(user) -> str:
    if user is None:
        return "compte supprimé"
    return user.get_full_name() or user.email or user.username


def _day(value) -> str:
    return formats.date_format(value, "j F Y")


def describe(record) -> str:
    """One record in words, for the page."""
    if isinstance(record, GuardianAuthorisation):
        return (
            f"Signée le {_day(record.signed_on)} par : {record.get_signed_as_display()} ; "
            f"{record.get_method_display().lower()}"
        )
    if isinstance(record, PupilAgreement):
        wording = WORDINGS.get(record.wording)
        group = wording.group if wording else "inconnu"
        return (
            f"Donné le {_day(record.agreed_on)}, {record.get_method_display().lower()} ; "
            f"texte présenté : {group} (version {record.wording})"
        )
    if isinstance(record, TeacherAgreement):
        who = _who(record.teacher) if record.teacher_id else "l'enseignant·e de la classe"
        return f"Donné le {_day(record.agreed_on)} par {who}"
    if isinstance(record, FamiliesInformed):
        return f"Informées le {_day(record.informed_on)} par : {record.get_channel_display()}"
    if not record.required:
        return "Non : aucun élève à tenir hors du champ"
    if record.count:
        return f"Oui : {record.count} élève{'s' if record.count > 1 else ''} hors du champ"
    return "Oui : des élèves doivent rester hors du champ"


def _row(key: str, title: str, record) -> dict:
    return {
        "key": key,
        "title": title,
        "record": record,
        "details": describe(record) if record is not None else "",
        "by": _who(record.recorded_by) if record is not None else "",
        "kind": record._meta.verbose_name.capitalize() if record is not None else title,
    }


TITLES = {
    "guardians": "Autorisation des représentants légaux",
    "pupil": "Accord de l'élève",
    "teacher": "Accord de l'enseignant·e",
    "families": "Information des familles de la classe",
    "frame": "Élèves hors du champ de la caméra",
}


def _history(loan) -> list:
    """Every record of the loan, the latest first (the current ones included)."""
    records = list(
        TeacherAgreement.objects.filter(loan=loan).select_related("recorded_by", "teacher")
    )
    for model in (GuardianAuthorisation, PupilAgreement, FamiliesInformed, FrameExclusion):
        records.extend(model.objects.filter(loan=loan).select_related("recorded_by"))
    records.sort(key=lambda row: (row.recorded_at, row.pk), reverse=True)
    return [_row("", "", record) for record in records]


@require_http_methods(["GET", "POST"])
def loan_authorisations(request: HttpRequest, loan_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    loan = _loan_for(request, loan_id, Action.CONSENT_MANAGE)
    bound = None
    status = 200
    if request.method == "POST":
        record = request.POST.get("record", "")
        form_class = FORMS.get(record)
        if form_class is None:
            raise Http404
        bound = (
            form_class(request.POST, loan=loan)
            if form_class is TeacherForm
            else form_class(request.POST)
        )
        if bound.is_valid():
            try:
                written = _write(record, bound, loan, request.user)
            except services.ConsentError as exc:
                bound.add_error(exc.field, exc.message)
                bound.describe_fields()
            else:
                audit.record(request, audit.Verb.CREATE, written, detail=f"prêt {loan.pk}")
                messages.success(request, SAVED[record])
                return redirect(f"{request.path}#{record}-title")
        status = 400
    forms = _forms(loan, bound)
    return render(
        request,
        "consent/loan.html",
        {
            "loan": loan,
            "current": [
                _row(key, TITLES[key], record)
                for key, record in services.current_records(loan).items()
            ],
            "missing": services.missing_records(loan),
            "forms": forms,
            "bound": bound,
            "wording": wording_for(loan.school_class),
            "wordings": WORDINGS,
            "history": _history(loan),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def own_agreement(request: HttpRequest, loan_id: int) -> HttpResponse:
    """A teacher of the loan's class gives their own agreement."""
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    loan = _loan_for(request, loan_id, Action.CONSENT_TEACHER)
    form = OwnAgreementForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            written = services.teacher_record(
                loan=loan,
                by=request.user,
                agreed_on=form.cleaned_data["agreed_on"],
                teacher=request.user,
            )
        except services.ConsentError as exc:
            form.add_error(exc.field, exc.message)
            form.describe_fields()
        else:
            audit.record(request, audit.Verb.CREATE, written, detail=f"prêt {loan.pk}")
            messages.success(request, "Votre accord est enregistré.")
            return redirect("consent:own_agreement", loan_id=loan.pk)
    mine = (
        TeacherAgreement.objects.filter(loan=loan, teacher=request.user)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    return render(
        request,
        "consent/own_agreement.html",
        {"loan": loan, "form": form, "mine": mine},
        status=400 if form.is_bound else 200,
    )
