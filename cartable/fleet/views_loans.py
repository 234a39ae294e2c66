"""Loans through the pages: a coordinator asks for a kit for a pupil, the fleet team
assigns and ships it, installation is confirmed on the class side and the pupil side, the
loan is extended, ended, and the kit comes back.

Every check goes through the access layer and every write through ``services``, which
lock the rows and refuse a step out of order with a ``FleetError`` in French. A signed-in
person without the right, or asking for a loan outside their scope, gets 404. Pupils'
names are shown only to those with ``Action.VIEW`` on the loan, decided per loan.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Min, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.views.decorators.http import require_http_methods, require_POST

from cartable.core.views import sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import RULES, Action, Actor, can, loans_for
from cartable.organisation.models import Pupil, Role, RoleGrant
from cartable.privacy import audit
from cartable.privacy.services import loan_ended_on, name_kept_until

from . import services
from .forms_loans import AssignForm, ExtendForm, LoanRequestForm, ReturnForm
from .models import Loan, LoanEvent, LoanStep

log = logging.getLogger("cartable.fleet")

S = Loan.Status
# The actions that let a person open a loan's page (each decided by the access layer).
PAGE_ACTIONS = (
    Action.VIEW,
    Action.FLEET_MANAGE,
    Action.LOAN_MANAGE,
    Action.INSTALL_CLASS,
    Action.INSTALL_PUPIL,
)
PAGE_SIZE = 50


def _load(loan_id: int) -> Loan:
    loan = (
        Loan.objects.select_related(
            "kit",
            "pupil",
            "pupil_department",
            "school_class__school__department__academy",
        )
        .filter(pk=loan_id)
        .first()
    )
    if loan is None:
        raise Http404
    return loan


def _rights(actor: Actor, loan: Loan) -> dict[str, bool]:
    return {action.name: can(actor, action, loan) for action in PAGE_ACTIONS}


# Request -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def loan_request(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    if not can(actor, Action.LOAN_REQUEST):
        raise Http404
    initial: dict = {}
    wanted = request.GET.get("eleve", "")
    chosen = None
    if wanted.isascii() and wanted.isdigit():
        chosen = (
            Pupil.objects.filter(pk=int(wanted))
            .select_related("school_class__school__department")
            .first()
        )
        if chosen is not None and can(actor, Action.LOAN_REQUEST, chosen):
            initial["pupil"] = chosen.pk
            initial["pupil_department"] = chosen.school_class.school.department_id
        else:
            chosen = None
    form = LoanRequestForm(
        request.POST if request.method == "POST" else None, initial=initial, actor=actor
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            loan = services.loan_request(
                pupil=data["pupil"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                place_kind=data["place_kind"],
                pupil_department=data["pupil_department"],
                by=request.user,
            )
        except services.FleetError as exc:
            form.add_error(None, str(exc))
        else:
            log.info("loan requested id=%s", loan.pk)
            audit.record(request, audit.Verb.CREATE, loan)
            messages.success(
                request,
                f"La demande de cartable pour {data['pupil'].display_name} est enregistrée : "
                "l'équipe du parc va attribuer un cartable.",
            )
            return redirect("fleet:loan", loan.pk)
    status = 400 if form.errors else 200
    return render(
        request, "fleet/loan_request.html", {"form": form, "chosen": chosen}, status=status
    )


# List --------------------------------------------------------------------------------------


def followed_loans(actor: Actor):
    """The loans a person follows on the list: those they track (the fleet team: all of
    them, without names) and those they manage (a coordinator: their département's)."""
    return loans_for(actor, Action.KIT_TRACK) | loans_for(actor, Action.LOAN_MANAGE)


def loan_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    if not (can(actor, Action.FLEET_MANAGE) or can(actor, Action.LOAN_REQUEST)):
        raise Http404
    loans = followed_loans(actor)
    counts = dict(loans.values_list("status").annotate(n=Count("pk")).order_by())
    wanted = request.GET.get("etape", "")
    status = wanted if wanted in S.values else ""
    if status:
        loans = loans.filter(status=status)
    loans = (
        loans.select_related("kit", "pupil_department", "school_class__school")
        .annotate(
            requested_first=Case(
                When(status=S.REQUESTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("requested_first", "-created_at", "-pk")
    )
    page = Paginator(loans, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # Names only where the access layer gives Action.VIEW, loan by loan.
    named = dict(
        loans_for(actor, Action.VIEW)
        .filter(pk__in=[loan.pk for loan in rows])
        .values_list("pk", "pupil__display_name")
    )
    context = {
        "rows": [(loan, named.get(loan.pk)) for loan in rows],
        "show_names": bool(named),
        "page": page,
        "status": status,
        "statuses": [(value, label, counts.get(value, 0)) for value, label in S.choices],
        "total": sum(counts.values()),
        "may_request": can(actor, Action.LOAN_REQUEST),
    }
    return render(request, "fleet/loan_list.html", context)


# The loan page -----------------------------------------------------------------------------

K = LoanEvent.Kind
# Which roles do each step (from the access rules): an event shows the role its author
# held for it.
EVENT_ROLES: dict[str, tuple[str, ...]] = {
    K.REQUESTED: RULES[Action.LOAN_REQUEST]["pupil"],
    K.ASSIGNED: RULES[Action.FLEET_MANAGE]["loan"],
    K.SHIPPED: RULES[Action.FLEET_MANAGE]["loan"],
    K.RETURNED: RULES[Action.FLEET_MANAGE]["loan"],
    K.CLASS_INSTALLED: RULES[Action.INSTALL_CLASS]["loan"],
    K.PUPIL_INSTALLED: RULES[Action.INSTALL_PUPIL]["loan"],
    K.EXTENDED: RULES[Action.LOAN_MANAGE]["loan"],
    K.ENDED: RULES[Action.LOAN_MANAGE]["loan"],
    K.CANCELLED: RULES[Action.LOAN_MANAGE]["loan"],
    K.OVERDUE: (),  # the platform's own notice
}


def _person_name(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


def timeline(loan: Loan, *, with_people: bool) -> list[dict]:
    """The loan's steps, each with who did it: their role, and their name only for those
    who may see the loan's people (a family member's name would name the pupil)."""
    events = list(loan.events.select_related("by").order_by("at", "pk"))
    user_ids = {event.by_id for event in events if event.by_id}
    roles: dict[int, set[str]] = defaultdict(set)
    for user_id, role in RoleGrant.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "role"
    ):
        roles[user_id].add(role)
    rows = []
    for event in events:
        held = roles.get(event.by_id, set())
        role = next((r for r in EVENT_ROLES.get(event.kind, ()) if r in held), None)
        role = role or next((r for r in Role if r in held), None)
        who = Role(role).label if role else ""
        if with_people and event.by is not None:
            who = f"{_person_name(event.by)}{f' ({who})' if who else ''}"
        if event.by_id is None and event.kind == K.OVERDUE:
            who = "La plateforme"
        rows.append({"event": event, "who": who or "—"})
    return rows


def duration_fr(delta: timedelta) -> str:
    """A duration in words: « 2 jours et 3 heures », « 5 heures et 10 minutes »."""

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n > 1 else ''}"

    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return plural(days, "jour") + (f" et {plural(hours, 'heure')}" if hours else "")
    if hours:
        return plural(hours, "heure") + (f" et {plural(minutes, 'minute')}" if minutes else "")
    return plural(minutes, "minute")


def first_live_lesson(loan: Loan):
    from cartable.live.models import LiveSession

    return LiveSession.objects.filter(loan=loan).aggregate(first=Min("started_at"))["first"]


def _context(actor: Actor, loan: Loan, rights: dict[str, bool] | None = None, **forms) -> dict:
    rights = rights if rights is not None else _rights(actor, loan)
    fleet, manage = rights["FLEET_MANAGE"], rights["LOAN_MANAGE"]
    first_live = first_live_lesson(loan)
    context = {
        "loan": loan,
        "rights": rights,
        "pupil_name": loan.pupil.display_name if rights["VIEW"] else None,
        "steps": timeline(loan, with_people=rights["VIEW"]),
        "first_live": first_live,
        "time_to_first_live": duration_fr(first_live - loan.created_at) if first_live else None,
        # Each step: the person's right (the access layer) and the loan's life cycle.
        "may_assign": fleet and loan.may(LoanStep.ASSIGN),
        "may_ship": fleet and loan.may(LoanStep.SHIP),
        "may_install_class": rights["INSTALL_CLASS"] and loan.may(LoanStep.INSTALL_CLASS),
        "may_install_pupil": rights["INSTALL_PUPIL"] and loan.may(LoanStep.INSTALL_PUPIL),
        "may_extend": manage and loan.may(LoanStep.EXTEND),
        "may_end": manage and loan.may(LoanStep.END),
        "may_cancel": manage and loan.may(LoanStep.CANCEL),
        "may_return": fleet and loan.may(LoanStep.RETURN),
        "may_follow": can(actor, Action.FLEET_MANAGE) or can(actor, Action.LOAN_REQUEST),
    }
    context["assign_form"] = forms.get("assign_form") or (
        AssignForm(loan=loan) if context["may_assign"] else None
    )
    context["extend_form"] = forms.get("extend_form") or (
        ExtendForm(initial={"ends_on": loan.ends_on}) if context["may_extend"] else None
    )
    context["return_form"] = forms.get("return_form") or (
        ReturnForm() if context["may_return"] else None
    )
    context["overdue"] = (
        {"counts_as_ended": loan_ended_on(loan), "name_until": name_kept_until(loan)}
        if loan.is_overdue()
        else None
    )
    context["error"] = forms.get("error")
    context["form_errors"] = [
        form for form in (forms.get(k) for k in ("assign_form", "extend_form")) if form
    ]
    return context


def loan_detail(request: HttpRequest, loan_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    loan = _load(loan_id)
    rights = _rights(actor, loan)
    if not any(rights.values()):
        raise Http404
    audit.record(request, audit.Verb.VIEW, loan)
    return render(request, "fleet/loan_detail.html", _context(actor, loan, rights))


# Steps -------------------------------------------------------------------------------------


def _step(request: HttpRequest, loan_id: int, action: Action, run, *, form_key=None, form=None):
    """One step of a loan posted from its page: the right is checked first (404), then the
    form, then the service writes or refuses (its French message, nothing written)."""
    loan_path = reverse("fleet:loan", args=[loan_id])
    if not request.user.is_authenticated:
        return sign_in_redirect(request, loan_path)
    actor = request_actor(request)
    loan = _load(loan_id)
    if not can(actor, action, loan):
        raise Http404
    bound = None
    if form is not None:
        bound = form(request.POST, loan=loan) if form is AssignForm else form(request.POST)
    if bound is not None and not bound.is_valid():
        context = _context(actor, loan, **{form_key: bound})
        return render(request, "fleet/loan_detail.html", context, status=400)
    try:
        message = run(loan, bound.cleaned_data if bound is not None else {}, request.user)
    except services.FleetError as exc:
        log.info("loan step refused id=%s action=%s", loan.pk, action)
        context = _context(actor, _load(loan_id), error=str(exc))
        return render(request, "fleet/loan_detail.html", context, status=409)
    audit.record(request, audit.Verb.UPDATE, loan, detail=request.resolver_match.url_name)
    messages.success(request, message)
    return redirect(loan_path)


def _date(value) -> str:
    return formats.date_format(value, "j F Y")


@require_POST
def loan_assign(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        services.loan_assign(loan=loan, kit=data["kit"], by=by)
        return f"Le cartable {data['kit'].code} est attribué à cette mise à disposition."

    return _step(
        request, loan_id, Action.FLEET_MANAGE, run, form_key="assign_form", form=AssignForm
    )


@require_POST
def loan_ship(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        loan = services.loan_ship(loan=loan, by=by)
        return f"Le cartable {loan.kit.code} est noté expédié."

    return _step(request, loan_id, Action.FLEET_MANAGE, run)


def _installed_message(loan: Loan, side: str) -> str:
    where = "en classe" if side == services.CLASS_SIDE else "chez l'élève"
    message = f"L'installation {where} est confirmée."
    if loan.status == S.ACTIVE:
        message += " Les deux côtés sont installés : la mise à disposition est en cours."
    else:
        other = "chez l'élève" if side == services.CLASS_SIDE else "en classe"
        message += f" Il reste à confirmer l'installation {other}."
    return message


@require_POST
def loan_install_class(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        loan = services.loan_confirm_installation(loan=loan, side=services.CLASS_SIDE, by=by)
        return _installed_message(loan, services.CLASS_SIDE)

    return _step(request, loan_id, Action.INSTALL_CLASS, run)


@require_POST
def loan_install_pupil(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        loan = services.loan_confirm_installation(loan=loan, side=services.PUPIL_SIDE, by=by)
        return _installed_message(loan, services.PUPIL_SIDE)

    return _step(request, loan_id, Action.INSTALL_PUPIL, run)


@require_POST
def loan_extend(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        loan = services.loan_extend(loan=loan, ends_on=data["ends_on"], by=by)
        return f"La fin prévue est reportée au {_date(loan.ends_on)}."

    return _step(request, loan_id, Action.LOAN_MANAGE, run, form_key="extend_form", form=ExtendForm)


@require_http_methods(["GET", "POST"])
def loan_end(request: HttpRequest, loan_id: int) -> HttpResponse:
    """GET asks to confirm; POST ends the loan."""
    if request.method == "POST":

        def run(loan, data, by):
            loan = services.loan_end(loan=loan, by=by)
            return (
                "La mise à disposition est terminée : le cartable "
                f"{loan.kit.code} est attendu en retour."
            )

        return _step(request, loan_id, Action.LOAN_MANAGE, run)
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    loan = _load(loan_id)
    if not can(actor, Action.LOAN_MANAGE, loan):
        raise Http404
    context = {
        "loan": loan,
        "pupil_name": loan.pupil.display_name if can(actor, Action.VIEW, loan) else None,
        "endable": loan.may(LoanStep.END),
    }
    return render(request, "fleet/loan_end.html", context)


@require_POST
def loan_cancel(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        kit = loan.kit
        services.loan_cancel(loan=loan, by=by)
        if kit is not None:
            return f"La mise à disposition est annulée : le cartable {kit.code} retourne en stock."
        return "La demande est annulée."

    return _step(request, loan_id, Action.LOAN_MANAGE, run)


@require_POST
def loan_return(request: HttpRequest, loan_id: int) -> HttpResponse:
    def run(loan, data, by):
        services.loan_return(loan=loan, by=by, needs_repair=data["needs_repair"])
        where = "en réparation" if data["needs_repair"] else "de nouveau en stock"
        return f"Le retour du cartable {loan.kit.code} est enregistré : il est {where}."

    return _step(
        request, loan_id, Action.FLEET_MANAGE, run, form_key="return_form", form=ReturnForm
    )
