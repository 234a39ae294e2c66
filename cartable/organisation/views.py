"""Pages of the organisation: the home page of each role, classes, pupils, invitations and
the school directory.

Every check goes through the access layer (``access.py``). A signed-in person who may not
use a page, or who asks for an object outside their scope, gets 404: whether something
exists outside one's scope is itself not shown.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cartable.core.views import posted, sign_in_redirect
from cartable.fleet.models import DeviceCredential
from cartable.live.views import request_actor, request_device
from cartable.privacy import audit

from . import selectors, services
from .access import (
    Action,
    Actor,
    academies_for,
    can,
    classes_for,
    departments_for,
    loans_for,
    pupils_for,
)
from .forms import (
    InvitationAcceptForm,
    InvitationForm,
    PupilForm,
    SchoolClassForm,
    SchoolsImportForm,
)
from .importers import schools_import as directory_import
from .models import Academy, Department, Role, School

log = logging.getLogger("cartable.organisation")


def _require(actor: Actor, action: Action, obj=None) -> None:
    if not can(actor, action, obj):
        raise Http404


def _get_in_scope(queryset, pk: int):
    """The object ``pk`` of an access-layer queryset; 404 when it is outside it."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


# Home ---------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    device = request_device(request)
    if (
        not request.user.is_authenticated
        and device is not None
        and device.kind == DeviceCredential.Kind.PUPIL_TABLET
    ):
        return redirect("live:pupil")
    if not request.user.is_authenticated:
        return render(request, "organisation/home.html", {"loans": []})
    actor = request_actor(request)
    grants = actor.grants
    context: dict = {"roles": grants, "loans": []}
    if Role.TEACHER in grants:
        context["loans"] = (
            loans_for(actor, Action.LIVE_CLASS_STATION)
            .active()
            .select_related("pupil", "school_class__school", "kit")
            .order_by("school_class__name")
        )
    if Role.DEPARTMENT in grants:
        context["departments"] = [
            selectors.department_overview(actor, department)
            for department in Department.objects.filter(pk__in=grants[Role.DEPARTMENT])
        ]
    if Role.SCHOOL_HEAD in grants:
        context["schools"] = [
            selectors.school_overview(actor, school)
            for school in School.objects.filter(pk__in=grants[Role.SCHOOL_HEAD])
        ]
    if Role.ACADEMY in grants:
        context["academies"] = [
            selectors.academy_overview(academy)
            for academy in Academy.objects.filter(pk__in=grants[Role.ACADEMY])
            if can(actor, Action.FIGURES_VIEW, academy)
        ]
    if Role.NATIONAL in grants and can(actor, Action.FIGURES_VIEW):
        rows = selectors.national_figures(actor)
        context["national"] = {
            "rows": rows,
            "active_loans": sum(row.figures.active_loans for row in rows),
            "classes_with_loans": sum(row.figures.classes_with_loans for row in rows),
            "schools_with_loans": sum(row.figures.schools_with_loans for row in rows),
        }
    for role, key in ((Role.HOSPITAL_STAFF, "hospital_loans"), (Role.FAMILY, "family_loans")):
        if role in grants:
            context[key] = (
                loans_for(actor, Action.VIEW)
                .filter(pk__in=grants[role])
                .select_related("pupil", "school_class__school", "kit")
                .order_by("-starts_on")
            )
    if Role.APADHE_TEACHER in grants:
        # The APADHE teacher's loans: their way into each pupil's folder « Travail ».
        context["apadhe_loans"] = (
            loans_for(actor, Action.WORK_VIEW)
            .filter(pk__in=grants[Role.APADHE_TEACHER])
            .select_related("pupil", "school_class__school")
            .order_by("-starts_on")
        )
    if Role.FLEET in grants:
        context["kit_loans"] = selectors.kit_tracking(actor)
    context.update(
        may_invite=can(actor, Action.INVITE),
        may_import=can(actor, Action.SCHOOLS_IMPORT),
        may_manage_classes=can(actor, Action.CLASS_MANAGE),
        may_manage_pupils=can(actor, Action.PUPIL_MANAGE),
        may_request_loans=can(actor, Action.LOAN_REQUEST),
        may_follow_loans=can(actor, Action.FLEET_MANAGE) or can(actor, Action.LOAN_REQUEST),
        may_manage_fleet=can(actor, Action.FLEET_MANAGE),
        may_track_kits=can(actor, Action.KIT_TRACK)
        or academies_for(actor, Action.KIT_TRACK).exists()
        or departments_for(actor, Action.KIT_TRACK).exists(),
        may_see_evaluation=can(actor, Action.FIGURES_VIEW)
        or academies_for(actor, Action.FIGURES_VIEW).exists()
        or departments_for(actor, Action.FIGURES_VIEW).exists(),
    )
    return render(request, "organisation/home.html", context)


# Classes and pupils -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def class_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    _require(actor, Action.CLASS_MANAGE)
    form = SchoolClassForm(*posted(request), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            school_class = services.school_class_create(**form.cleaned_data)
        except services.OrganisationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            audit.record(request, audit.Verb.CREATE, school_class)
            messages.success(request, f"La classe {school_class.name} est créée.")
            return redirect("home")
    status = 400 if form.errors else 200
    return render(
        request, "organisation/class_form.html", {"form": form, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
def class_edit(request: HttpRequest, class_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    school_class = _get_in_scope(
        classes_for(actor, Action.CLASS_MANAGE).select_related("school"), class_id
    )
    initial = {
        "school": school_class.school,
        "name": school_class.name,
        "level": school_class.level,
        "school_year": school_class.school_year,
    }
    form = SchoolClassForm(*posted(request), initial=initial, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            services.school_class_update(school_class=school_class, **form.cleaned_data)
        except services.OrganisationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            audit.record(request, audit.Verb.UPDATE, school_class)
            messages.success(request, f"La classe {school_class.name} est enregistrée.")
            return redirect("home")
    status = 400 if form.errors else 200
    return render(
        request,
        "organisation/class_form.html",
        {"form": form, "creating": False, "school_class": school_class},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def pupil_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    _require(actor, Action.PUPIL_MANAGE)
    initial = {}
    wanted = request.GET.get("classe", "")
    if wanted.isascii() and wanted.isdigit():
        initial["school_class"] = wanted
    form = PupilForm(*posted(request), initial=initial, actor=actor)
    if request.method == "POST" and form.is_valid():
        pupil = services.pupil_create(**form.cleaned_data)
        audit.record(request, audit.Verb.CREATE, pupil)
        messages.success(request, f"L'élève {pupil.display_name} est ajouté à sa classe.")
        return redirect("home")
    status = 400 if form.errors else 200
    return render(
        request, "organisation/pupil_form.html", {"form": form, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
def pupil_edit(request: HttpRequest, pupil_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    pupil = _get_in_scope(pupils_for(actor, Action.PUPIL_MANAGE), pupil_id)
    if request.method == "GET":
        audit.record(request, audit.Verb.VIEW, pupil)
    initial = {"display_name": pupil.display_name, "school_class": pupil.school_class_id}
    form = PupilForm(*posted(request), initial=initial, actor=actor)
    if request.method == "POST" and form.is_valid():
        services.pupil_update(pupil=pupil, **form.cleaned_data)
        audit.record(request, audit.Verb.UPDATE, pupil)
        messages.success(request, f"L'élève {pupil.display_name} est enregistré.")
        return redirect("home")
    status = 400 if form.errors else 200
    return render(
        request,
        "organisation/pupil_form.html",
        {"form": form, "creating": False, "pupil": pupil},
        status=status,
    )


# Invitations --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    _require(actor, Action.INVITE)
    form = InvitationForm(*posted(request), actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.invitation_create(
                by=request.user,
                email=data["email"],
                role=data["role"],
                scope=data["scope"],
                accept_url=lambda token: request.build_absolute_uri(
                    reverse("organisation:invitation_accept", args=[token])
                ),
            )
        except services.InvitationRefused as exc:
            form.add_error(None, exc.message)
        else:
            log.info("invitation sent id=%s role=%s", invitation.pk, invitation.role)
            audit.record(request, audit.Verb.CREATE, invitation, detail=invitation.role)
            messages.success(
                request,
                f"Invitation envoyée à {invitation.email} ({invitation.get_role_display()}, "
                f"{invitation.scope_label()}). Le lien vaut "
                f"{services.INVITATION_VALID_DAYS} jours et ne sert qu'une fois.",
            )
            return redirect("organisation:invitation_create")
    status = 400 if form.errors else 200
    return render(request, "organisation/invitation_form.html", {"form": form}, status=status)


REFUSALS = {
    services.InvitationState.UNKNOWN: (
        404,
        "Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié l'adresse en "
        "entier, ou demandez une nouvelle invitation à la personne qui vous a invité.",
    ),
    services.InvitationState.EXPIRED: (
        410,
        "Ce lien d'invitation a expiré (il valait "
        f"{services.INVITATION_VALID_DAYS} jours). Demandez une nouvelle invitation à la "
        "personne qui vous a invité.",
    ),
    services.InvitationState.USED: (
        410,
        "Ce lien d'invitation a déjà servi : il ne sert qu'une fois. Si c'était vous, "
        "connectez-vous avec votre adresse et votre mot de passe.",
    ),
}


def _backend() -> str:
    """The backend the new account is signed in with (the email one when installed)."""
    for path in settings.AUTHENTICATION_BACKENDS:
        if path.endswith("EmailBackend") or path.endswith("ModelBackend"):
            return path
    return settings.AUTHENTICATION_BACKENDS[-1]


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation, state = services.invitation_find(token)
    if state != services.InvitationState.VALID:
        status, message = REFUSALS[state]
        return render(
            request, "organisation/invitation_refused.html", {"message": message}, status=status
        )
    context = {"invitation": invitation}
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        if (user.email or "").strip().lower() != invitation.email:
            context["other_account"] = True
            return render(request, "organisation/invitation_accept.html", context, status=403)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=user)
            except services.InvitationRefused as exc:
                return render(
                    request,
                    "organisation/invitation_refused.html",
                    {"message": exc.message},
                    status=410,
                )
            messages.success(request, f"Rôle ajouté : {invitation.get_role_display()}.")
            return redirect("home")
        return render(request, "organisation/invitation_accept.html", context)
    if services.account_exists(invitation.email):
        context["sign_in_first"] = True
        return render(request, "organisation/invitation_accept.html", context)
    form = InvitationAcceptForm(*posted(request), email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = services.invitation_accept(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except services.InvitationRefused as exc:
            return render(
                request,
                "organisation/invitation_refused.html",
                {"message": exc.message},
                status=410,
            )
        login(request, new_user, backend=_backend())
        messages.success(request, "Votre compte est créé. Bienvenue !")
        return redirect("home")
    context["form"] = form
    status = 400 if form.errors else 200
    return render(request, "organisation/invitation_accept.html", context, status=status)


# School directory ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def schools_import(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    actor = request_actor(request)
    _require(actor, Action.SCHOOLS_IMPORT)
    form = SchoolsImportForm(*posted(request, files=True))
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = directory_import(file=form.cleaned_data["file"])
            if result.ok:
                log.info(
                    "school directory imported created=%s updated=%s",
                    result.created,
                    result.updated,
                )
            else:
                status = 400
        else:
            status = 400
    return render(
        request, "organisation/schools_import.html", {"form": form, "result": result}, status=status
    )
