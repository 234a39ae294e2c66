"""The transmission of the indicators to the ministry, as an API (docs/evaluation-transmission.md).

``GET /api/evaluation/indicators?annee=2025-2026&academie=25&departement=78&format=json``

- For people signed in (the session cookie; the second factor, for the accounts that need
  one, is asked by ``SecondFactorMiddleware`` before this is reached) who may see figures
  (``Action.FIGURES_VIEW``) over the scope asked: the ministry everywhere, a DANE its
  académie and its départements, a coordinator their département. Without ``academie`` or
  ``departement``: the widest scope the person may see (nationally for the ministry).
- Anonymous: 401. A scope outside one's rights, or someone who may see no figures: 404
  (the scope's existence is not revealed). A bad ``annee``, ``format``, or a code that
  cannot be one (``cartable.core.scope``): 422.
- The answer: the JSON of ``transmission.schema.json`` (small counts as « < 5 »), or with
  ``format=csv`` the same figures as CSV (``indicators.CSV_COLUMNS``, ``;``-separated).
  A period with no data answers 200 with ``donnees: false`` and the message
  « Aucune donnée pour cette période. ».
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.errors import AuthenticationError
from ninja.security import SessionAuth

from cartable.core.scope import ScopeRefused, scope_codes
from cartable.fleet.api import error
from cartable.organisation.access import Actor

from . import indicators
from .scope import parse_period, resolve

NOT_SIGNED_IN = (
    "Connectez-vous à cartable (session du navigateur) pour lire les indicateurs : "
    "cette adresse est réservée aux personnes qui peuvent voir les chiffres."
)
OUT_OF_SCOPE = (
    "Aucun périmètre de ce nom parmi ceux dont vous pouvez voir les chiffres "
    "(vérifiez les codes d'académie et de département)."
)
BAD_FORMAT = "Format attendu : json ou csv."
# What the parameters may be, stated in the schema (and checked again by parse_period and
# scope_codes, which give the French messages: see cartable/api.py).
YEAR_PATTERN = r"^\s*(?:[0-9]{4}-[0-9]{4})?\s*$"
ACADEMY_PATTERN = r"^\s*[0-9]{0,2}\s*$"
DEPARTMENT_PATTERN = r"^\s*(?:0?(?:[0-9]{1,3}|2[ABab]))?\s*$"


class NotSignedIn(AuthenticationError):
    """No person signed in: answered 401 with ``NOT_SIGNED_IN`` (cartable/api.py)."""

    def __init__(self) -> None:
        super().__init__(401, NOT_SIGNED_IN)


class PersonSession(SessionAuth):
    """django-ninja's ``django_auth`` (the session cookie), refusing with a message meant
    for people rather than the devices' one."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is None:
            raise NotSignedIn
        return user


router = Router(tags=["évaluation"], auth=PersonSession())


def _invalid(field: str, message: str) -> HttpResponse:
    return error(
        422,
        "invalid",
        f"Données invalides ({field}) : {message}",
        errors=[{"field": field, "message": message}],
    )


@router.get(
    "/indicators",
    summary="Indicateurs d'une année scolaire et d'un périmètre (transmission au ministère)",
    response={200: dict},
    openapi_extra={
        "responses": {
            200: {
                "description": "Les indicateurs (JSON, ou CSV avec format=csv)",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            400: {"description": "Caractère nul dans un paramètre"},
            401: {"description": "Aucune personne connectée"},
            403: {"description": "Second facteur à saisir d'abord"},
            404: {"description": "Périmètre hors de vos droits"},
            422: {"description": "Paramètre invalide"},
        }
    },
)
def evaluation_indicators(
    request: HttpRequest,
    annee: Annotated[str, Query(pattern=YEAR_PATTERN, description="2025-2026")] = "",
    academie: Annotated[str, Query(pattern=ACADEMY_PATTERN, description="25")] = "",
    departement: Annotated[str, Query(pattern=DEPARTMENT_PATTERN, description="78, 2A")] = "",
    format: Literal["json", "csv"] = "json",  # noqa: A002 (the parameter's public name)
):
    try:
        period = parse_period(annee.strip())
    except ValueError as exc:
        return _invalid("annee", str(exc))
    if format not in ("json", "csv"):
        return _invalid("format", BAD_FORMAT)
    try:
        codes = scope_codes({"academie": academie, "departement": departement})
    except ScopeRefused as refused:
        return _invalid(refused.field, refused.message)
    actor = Actor(user=request.user)
    try:
        scope = resolve(actor, codes.academy, codes.department)
    except Http404:
        return error(404, "not_found", OUT_OF_SCOPE)
    doc = indicators.document(indicators.compute(period, scope), scope)
    if format == "csv":
        response = HttpResponse(indicators.csv_text(doc), content_type="text/csv; charset=utf-8")
        name = f"indicateurs_{doc['annee_scolaire']}_{scope.slug}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return doc
