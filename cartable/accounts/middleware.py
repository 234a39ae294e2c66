"""Staff who signed in with their password reach no page before their TOTP code."""

from __future__ import annotations

from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse

from .second_factor import requires_second_factor


def _exempt(path: str) -> bool:
    # The steps themselves, signing out, and the files the pages need.
    return path.startswith(settings.STATIC_URL) or path in {
        reverse("accounts:second_factor"),
        reverse("accounts:totp_setup"),
        reverse("logout"),
    }


def _answer(request):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Saisissez d'abord votre code de vérification."}, status=403)
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('accounts:second_factor')}?{query}")


class SecondFactorMiddleware:
    """Sends a signed-in person who needs a second factor, and has not given it, to the code
    page (or to enrolment, from there). Installed after django-otp's OTPMiddleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._is_async:
            return self.__acall__(request)
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not _exempt(request.path_info)
            and requires_second_factor(user)
        ):
            return _answer(request)
        return self.get_response(request)

    async def __acall__(self, request):
        user = await request.auser()
        if (
            user.is_authenticated
            and not user.is_verified()
            and not _exempt(request.path_info)
            # The rule may come to read roles from the database: run it as sync code.
            and await sync_to_async(requires_second_factor)(user)
        ):
            return _answer(request)
        return await self.get_response(request)
