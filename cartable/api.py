"""The JSON API (django-ninja), with its OpenAPI schema at /api/openapi.json.

No interactive documentation page: ninja's loads Swagger UI from a CDN, and the platform
loads nothing from other origins. Read the schema, or docs/fleet.md.

Every error is JSON ``{"code": "...", "message": "..."}``, the message in French; invalid
input (422) adds ``errors``, one ``{"field", "message"}`` per problem.
"""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cartable.core.scope import BAD_ACADEMY, BAD_DEPARTMENT
from cartable.evaluation.api import NotSignedIn
from cartable.evaluation.api import router as evaluation_router
from cartable.fleet.api import UNAUTHENTICATED, error
from cartable.fleet.api import router as devices_router

api = NinjaAPI(
    title="cartable",
    version="1",
    urls_namespace="api",
    description="API des appareils du parc et des indicateurs de cartable.",
    docs_url=None,
)
api.add_router("/devices", devices_router)
api.add_router("/evaluation", evaluation_router)


# Pydantic's error types, in French (its ``ctx`` fills the placeholders).
_MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "extra_forbidden": "Ce champ n'est pas attendu.",
    "int_type": "Un nombre entier est attendu.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_from_float": "Un nombre entier est attendu.",
    "string_type": "Une chaîne de caractères est attendue.",
    "less_than_equal": "La valeur doit être au plus {le}.",
    "greater_than_equal": "La valeur doit être au moins {ge}.",
    "literal_error": "Valeur attendue : {expected}.",
    "string_too_long": "{max_length} caractères au plus.",
    "string_too_short": "{min_length} caractère(s) au moins.",
    "string_pattern_mismatch": "Caractères non autorisés : lettres, chiffres et ponctuation ASCII.",
    "model_attributes_type": "Un objet JSON est attendu.",
    "dict_type": "Un objet JSON est attendu.",
    "model_type": "Un objet JSON est attendu.",
}


# A parameter's own message when it does not match its pattern.
_PATTERN_MESSAGES = {
    "annee": "Année scolaire attendue sous la forme 2025-2026.",
    "academie": BAD_ACADEMY,
    "departement": BAD_DEPARTMENT,
}


def _field_error(detail: dict) -> dict:
    loc = [str(part) for part in detail.get("loc", ())]
    # ("body", "payload", "battery") → "battery"; the body itself → "".
    if loc[:1] == ["body"]:
        loc = loc[2:]
    template = _MESSAGES.get(detail.get("type", ""))
    if template is None:
        message = detail.get("msg", "Valeur invalide.")
    else:
        ctx = {
            key: str(value).replace(" or ", " ou ")
            for key, value in (detail.get("ctx") or {}).items()
        }
        try:
            message = template.format(**ctx)
        except (KeyError, IndexError):
            message = template
    if detail.get("type") == "string_pattern_mismatch" and loc[-1:]:
        message = _PATTERN_MESSAGES.get(loc[-1], message)
    if loc[:1] == ["query"]:
        loc = loc[1:]
    if not loc and detail.get("type") == "missing":
        message = "Le corps de la requête (un objet JSON) est obligatoire."
    return {"field": ".".join(loc), "message": message}


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [_field_error(detail) for detail in exc.errors]
    fields = ", ".join(dict.fromkeys(e["field"] or "corps de la requête" for e in errors))
    message = f"Données invalides ({fields}) : le détail de chaque erreur est dans « errors »."
    return error(422, "invalid", message, errors=errors)


@api.exception_handler(NotSignedIn)
def _not_signed_in(request, exc: NotSignedIn):
    # A person's endpoint (session cookie): no Bearer challenge, a message for people.
    return error(401, "unauthenticated", exc.message)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc: AuthenticationError):
    response = error(401, "unauthenticated", UNAUTHENTICATED)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:
        return error(400, "bad_request", "Le corps de la requête n'est pas du JSON valide.")
    return error(exc.status_code, "error", str(exc))
