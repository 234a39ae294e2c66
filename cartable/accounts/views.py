"""Sign-in pages: email and password, password reset, OpenID Connect, TOTP code."""

from __future__ import annotations

import logging

import requests
import segno
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from mozilla_django_oidc import views as oidc_views

from . import oidc, services, spraying
from .forms import CodeForm, NewPasswordForm, ResetRequestForm, SignInForm
from .second_factor import requires_second_factor

log = logging.getLogger("cartable.accounts")


def safe_next(request: HttpRequest) -> str:
    """Where to go after a step: ``next`` if it stays on this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site: anything else (« -1e999 ») would be read as a view's name.
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Too many failures from this address across accounts: no password is checked.
        if spraying.address_blocked(request):
            return spraying.address_lockout(request)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.enabled()
        context["oidc_label"] = oidc.button_label()
        return context


# Password reset: Django's views, our French pages and email.


class ResetRequestView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    reset_url_token = "nouveau"  # noqa: S105 (a placeholder in the address, not a secret)


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# Second factor.


def _code_error(check: services.CodeCheck) -> str:
    if check.retry_after_seconds:
        return (
            "Trop de codes erronés à la suite. Attendez "
            f"{check.retry_after_seconds} seconde{'s' if check.retry_after_seconds > 1 else ''}"
            " avant de saisir le code affiché à ce moment-là."
        )
    return (
        "Ce code n'est pas le bon, ou il a déjà servi. Saisissez le code affiché en ce "
        "moment par votre application."
    )


def _verified(request: HttpRequest, device) -> HttpResponse:
    otp_login(request, device)
    # A new session key once the person has proved more: a key seen before this step
    # (on a shared computer, say) cannot ride on the verified session.
    request.session.cycle_key()
    return redirect(safe_next(request))


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """The code after the password, for people who need one (and have enrolled)."""
    user = request.user
    if not requires_second_factor(user) or user.is_verified():
        return redirect(safe_next(request))
    if services.confirmed_totp_device(user) is None:
        return redirect(f"{reverse('accounts:totp_setup')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.totp_verify(user=user, token=form.cleaned_data["code"])
        if check.ok:
            return _verified(request, check.device)
        form.add_error("code", _code_error(check))
    return render(
        request,
        "accounts/second_factor.html",
        {"form": form, "next": safe_next(request)},
        status=200 if not form.errors else 400,
    )


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code (or type the key), then give a first code."""
    user = request.user
    if not requires_second_factor(user) or user.is_verified():
        return redirect(safe_next(request))
    if services.confirmed_totp_device(user) is not None:
        return redirect(f"{reverse('accounts:second_factor')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.totp_device_confirm(user=user, token=form.cleaned_data["code"])
        if check.ok:
            return _verified(request, check.device)
        form.add_error("code", _code_error(check))
    device = services.totp_device_pending(user=user)
    uri = services.totp_provisioning_uri(device)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, title="Code QR à scanner avec votre application d'authentification"
    )
    return render(
        request,
        "accounts/totp_setup.html",
        {
            "form": form,
            "next": safe_next(request),
            "qr_svg": qr_svg,
            "secret": services.totp_secret_for_typing(device),
        },
        status=200 if not form.errors else 400,
    )


# OpenID Connect (mozilla-django-oidc's views, with the provider found at each request).


def _oidc_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.warning("OIDC provider unavailable: %s", exc)
    return render(
        request, "accounts/oidc_unavailable.html", {"label": oidc.button_label()}, status=503
    )


class OidcStartView(oidc_views.OIDCAuthenticationRequestView):
    def __init__(self, *args, **kwargs):
        # The parent reads the endpoints from the settings here; they may need discovery.
        super(oidc_views.OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not oidc.enabled():
            raise Http404
        try:
            provider = oidc.provider()
        except oidc.OidcUnavailable as exc:
            return _oidc_unavailable(request, exc)
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = provider.client_id
        return super().get(request)


class OidcCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    @property
    def failure_url(self):
        return reverse("accounts:oidc_refused")

    def get(self, request):
        if not oidc.enabled():
            raise Http404
        try:
            return super().get(request)
        except (oidc.OidcUnavailable, requests.RequestException) as exc:
            return _oidc_unavailable(request, exc)
        except SuspiciousOperation as exc:
            log.warning("OIDC sign-in refused: %s", exc)
            return self.login_failure()


def oidc_refused(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/oidc_refused.html", {"label": oidc.button_label()}, status=403)


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once an account is locked from an address (HTTP 429)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(
        request,
        "accounts/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
