"""Pages of the live link: the class station, the pupil page and pairing.

The home page, which lists each person's loans, is the organisation's (it depends on roles).
"""

from __future__ import annotations

import logging

import segno
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cartable.core.ratelimit import Limiter
from cartable.core.views import sign_in_redirect
from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_authenticate
from cartable.organisation.access import Action, Actor, can
from cartable.privacy import audit

from . import kit, services

log = logging.getLogger("cartable.live")


def request_device(request: HttpRequest) -> DeviceCredential | None:
    if not hasattr(request, "_cartable_device"):
        token = request.COOKIES.get(settings.DEVICE_COOKIE_NAME)
        request._cartable_device = credential_authenticate(token) if token else None
    return request._cartable_device


def request_actor(request: HttpRequest) -> Actor:
    """The request's actor, made once per request (so its grants are read once)."""
    actor = getattr(request, "_cartable_actor", None)
    if actor is None or actor.user is not request.user:  # a sign-in changes request.user
        actor = Actor(user=request.user, device=request_device(request))
        request._cartable_actor = actor
    return actor


def get_loan_for(request: HttpRequest, loan_id: int, action: Action) -> Loan:
    """The loan if the actor may act on it; 404 otherwise, so existence is not revealed."""
    loan = (
        Loan.objects.select_related("pupil", "school_class__school", "kit")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None or not can(request_actor(request), action, loan):
        raise Http404
    return loan


def station(request: HttpRequest, loan_id: int) -> HttpResponse:
    device = request_device(request)
    if device is not None and device.kind != DeviceCredential.Kind.CLASS_STATION:
        device = None
    if not request.user.is_authenticated and device is None:
        return sign_in_redirect(request)
    loan = (
        Loan.objects.select_related("pupil", "school_class__school", "kit")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None or not can(
        Actor(user=request.user, device=device), Action.LIVE_CLASS_STATION, loan
    ):
        raise Http404
    # Kit mode: the kit's agent is online, so this tablet steers it and captures nothing.
    template = "live/station_kit.html" if kit.agent_online(loan) else "live/station.html"
    return render(request, template, {"loan": loan, "active": loan.is_active()})


def pupil(request: HttpRequest) -> HttpResponse:
    device = request_device(request)
    if device is None or device.kind != DeviceCredential.Kind.PUPIL_TABLET:
        return redirect("live:pair")
    loan = get_loan_for(request, device.loan_id, Action.LIVE_PUPIL)
    return render(request, "live/pupil.html", {"loan": loan, "active": loan.is_active()})


PAIR_ERROR = (
    "Ce code ne permet pas d'appairer la tablette : il est peut-être mal saisi, déjà utilisé "
    "ou expiré (un code vaut 10 minutes). Demandez un nouveau code à l'enseignant ou au "
    "coordonnateur."
)
PAIR_TOO_MANY = "Trop d'essais depuis cet appareil. Réessayez dans quelques minutes."
IP_TRIES, IP_WINDOW_S = 20, 600
PAIR_LIMITER = Limiter("pair-tries", IP_TRIES, IP_WINDOW_S)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@require_http_methods(["GET", "POST"])
def pair(request: HttpRequest) -> HttpResponse:
    context = {"error": None, "code": ""}
    if request.method == "POST":
        address = _client_ip(request)
        if PAIR_LIMITER.exceeded(address):
            context["error"] = PAIR_TOO_MANY
            return render(request, "live/pair.html", context, status=429)
        code = request.POST.get("code", "")[:40]
        try:
            credential, token = services.pairing_redeem(code=code)
        except services.PairingRefused as exc:
            PAIR_LIMITER.hit(address)
            log.info("pairing refused reason=%s", exc.reason)
            context.update(error=PAIR_ERROR, code=code)
            return render(request, "live/pair.html", context, status=400)
        response = redirect("live:pupil")
        response.set_cookie(
            settings.DEVICE_COOKIE_NAME,
            token,
            max_age=settings.DEVICE_COOKIE_MAX_AGE,
            secure=settings.DEVICE_COOKIE_SECURE,
            httponly=True,
            samesite="Strict",
        )
        log.info("tablet paired credential=%s loan=%s", credential.pk, credential.loan_id)
        return response
    return render(request, "live/pair.html", context)


@require_http_methods(["GET", "POST"])
def pairing_manage(request: HttpRequest, loan_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    loan = get_loan_for(request, loan_id, Action.PAIRING_MANAGE)
    issued = None
    qr_svg = None
    status = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "code":
            try:
                issued = services.pairing_code_create(loan=loan, by=request.user)
            except services.LiveError as exc:
                status = exc.message
            else:
                url = request.build_absolute_uri(reverse("live:pair")) + f"#code={issued.code}"
                qr_svg = segno.make(url, error="m").svg_inline(
                    scale=6, title=f"Code QR d'appairage {issued.display}"
                )
                status = "Nouveau code affiché. Il vaut 10 minutes et ne sert qu'une fois."
                audit.record(request, audit.Verb.CREATE, loan, detail="code d'appairage")
        elif action == "revoke":
            raw_id = request.POST.get("credential", "")
            credential = DeviceCredential.objects.filter(
                # isascii too: "²".isdigit() is true but int("²") raises (a 500, not a 404).
                pk=int(raw_id) if raw_id.isascii() and raw_id.isdigit() else 0,
                loan=loan,
                kind=DeviceCredential.Kind.PUPIL_TABLET,
            ).first()
            if credential is None:
                raise Http404
            services.paired_device_revoke(credential=credential, by=request.user)
            audit.record(request, audit.Verb.UPDATE, credential, detail="tablette révoquée")
            status = "La tablette n'est plus appairée."
        else:
            return HttpResponse("Action inconnue.", status=400)
    tablets = loan.credentials.filter(
        kind=DeviceCredential.Kind.PUPIL_TABLET, revoked_at__isnull=True
    ).order_by("-created_at")
    return render(
        request,
        "live/pairing_manage.html",
        {
            "loan": loan,
            "issued": issued,
            "qr_svg": qr_svg,
            "status": status,
            "tablets": tablets,
            "now": timezone.now(),
        },
    )
