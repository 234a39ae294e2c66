"""The device API: a kit's devices enrol once, then report themselves every minute.

- ``POST /api/devices/enrol``: a one-time enrolment code (printed on the device's label)
  and the device's serial number buy the device its own credential.
- ``POST /api/devices/heartbeat`` (``Authorization: Bearer <token>``): software version,
  network, signal, battery, uptime.
- ``GET /api/devices/me`` (Bearer): what the platform knows of the device.

Errors are JSON ``{"code": "...", "message": "..."}`` with the message in French (see
docs/fleet.md, « API des appareils »).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Interval
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, Strict, StringConstraints

from cartable.core.ratelimit import Limiter
from cartable.organisation.access import Action, Actor, can

from .heartbeats import HEARTBEAT_INTERVAL_S, heartbeat_record
from .models import Device, DeviceCredential
from .services import EnrolmentRefused, credential_authenticate, enrolment_redeem

log = logging.getLogger("cartable.fleet")

ENROLMENT_WINDOW_S = 600
# A device beats every minute; a few more (a restart, a retry) are fine, a flood is not.
HEARTBEATS_PER_MINUTE = 6
HEARTBEAT_LIMITER = Limiter("heartbeats", HEARTBEATS_PER_MINUTE, 60)


def enrolment_limiter() -> Limiter:
    """Failed enrolment tries per client address (read at each request: tests change it)."""
    return Limiter("enrol-tries", settings.FLEET["ENROLMENT_TRIES_PER_10_MIN"], ENROLMENT_WINDOW_S)


# Messages ----------------------------------------------------------------------------------

ENROLMENT_REFUSED = (
    "Ce code d'enrôlement ne permet pas d'enrôler cet appareil : il est peut-être mal saisi, "
    "déjà utilisé, expiré, ou le numéro de série ne correspond pas. Vérifiez-les, ou demandez "
    "un nouveau code à l'équipe du parc."
)
TOO_MANY_ENROLMENTS = "Trop d'essais d'enrôlement depuis cette adresse. Réessayez dans 10 minutes."
TOO_MANY_HEARTBEATS = (
    f"Trop de signaux de vie : un appareil en envoie un par minute "
    f"({HEARTBEATS_PER_MINUTE} au plus par minute)."
)
UNAUTHENTICATED = (
    "Identifiant d'appareil absent, inconnu ou révoqué : envoyez l'en-tête "
    "« Authorization: Bearer <jeton> » reçu à l'enrôlement, ou enrôlez l'appareil à nouveau."
)
NOT_A_KIT_DEVICE = (
    "Cet identifiant n'est pas celui d'un appareil du parc : il ne peut ni envoyer de signaux "
    "de vie ni lire la fiche d'un appareil."
)


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message, **extra}, status=status)
    if status == 429 and "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


def client_address(request: HttpRequest) -> str:
    # uvicorn puts the client's address in REMOTE_ADDR (behind the trusted proxy in
    # production), as for pairing and sign-in.
    return request.META.get("REMOTE_ADDR", "")


# Schemas -----------------------------------------------------------------------------------

# Printable ASCII only: no NUL (PostgreSQL refuses it), no control character, no lone
# surrogate (which no database can store).
Printable = StringConstraints(strip_whitespace=True, pattern=r"^[\x20-\x7e]+$")


class ApiError(Schema):
    code: str = Field(description="Machine-readable reason.")
    message: str = Field(description="What happened, in French, for a person.")


class FieldError(Schema):
    field: str = Field(description="The field in error (dotted path), empty for the whole body.")
    message: str


class InvalidInput(ApiError):
    errors: list[FieldError]


class TooMany(ApiError):
    retry_after: int = Field(description="Seconds to wait (also in the Retry-After header).")


class EnrolIn(Schema):
    model_config = ConfigDict(extra="forbid")

    serial: Annotated[str, Printable, StringConstraints(min_length=1, max_length=60)] = Field(
        description="The device's serial number, as on its label.", examples=["SN-0001"]
    )
    code: Annotated[str, Printable, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The one-time enrolment code (spaces and dashes are ignored, any case).",
        examples=["ABCD-EFGH-JKMN-PQRS"],
    )


class EnrolOut(Schema):
    device_id: int
    token: str = Field(description="The device's credential, shown once: send it as Bearer.")
    heartbeat_interval_s: int


def _whole_number(value):
    """JSON has one kind of number: ``82.0`` is the integer 82 (as JSON Schema says), while
    ``82.5``, ``true`` and ``"82"`` stay refused (the field is strict after this)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer, also when sent as an integer-valued float; never a boolean nor a string. The
# bounds sit inside the type, before the conversion, so that the schema states them on the
# integer (``minimum``, ``maximum``; on a nullable field pydantic would otherwise write them
# as unknown ``ge``/``le`` keywords, which no client reads).
Percent = Annotated[int, Strict(), Interval(ge=0, le=100), BeforeValidator(_whole_number)]
Uptime = Annotated[int, Strict(), Interval(ge=0, le=2_147_483_647), BeforeValidator(_whole_number)]


class HeartbeatIn(Schema):
    model_config = ConfigDict(extra="forbid")

    software_version: Annotated[str, Printable, StringConstraints(min_length=1, max_length=40)] = (
        Field(examples=["5.2.1"])
    )
    network: Literal["wifi", "4g", "wired"]
    signal: Percent | None = Field(description="Signal level, %.")
    battery: Percent | None = Field(description="Battery level, %.")
    uptime_s: Uptime = Field(description="Seconds since boot.")


class DeviceOut(Schema):
    id: int
    serial: str
    kind: str
    kit: str | None = Field(description="The reference of the device's kit, if it has one.")
    software_version: str
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    online: bool
    heartbeat_interval_s: int


# Authentication ----------------------------------------------------------------------------


class DeviceBearer(HttpBearer):
    """A device credential (``Authorization: Bearer <token>``); never a person's session."""

    def authenticate(self, request: HttpRequest, token: str) -> DeviceCredential | None:
        # Nothing joined: the heartbeat needs only the credential's own row.
        return credential_authenticate(token.strip(), related=())


router = Router(tags=["appareils"])


def _may_report(credential: DeviceCredential, device: Device | None = None) -> bool:
    """Whether the access layer lets this credential report for its device (only a kit
    device's own credential may). Decided from ids: no query."""
    if credential.device_id is None:
        return False
    device = device or Device(pk=credential.device_id)
    return can(Actor(device=credential), Action.DEVICE_REPORT, device)


@router.post(
    "/enrol",
    response={201: EnrolOut, 400: ApiError, 422: InvalidInput, 429: TooMany},
    summary="Enrôler un appareil avec son code à usage unique",
)
def enrol(request: HttpRequest, payload: EnrolIn):
    limiter = enrolment_limiter()
    address = client_address(request)
    if limiter.exceeded(address):
        return error(429, "too_many_tries", TOO_MANY_ENROLMENTS, retry_after=ENROLMENT_WINDOW_S)
    try:
        credential, token = enrolment_redeem(serial=payload.serial, code=payload.code)
    except EnrolmentRefused as exc:
        limiter.hit(address)
        log.info("enrolment refused reason=%s", exc.reason)
        return error(400, "enrolment_refused", ENROLMENT_REFUSED)
    log.info("device enrolled device=%s credential=%s", credential.device_id, credential.pk)
    return Status(
        201,
        {
            "device_id": credential.device_id,
            "token": token,
            "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
        },
    )


@router.post(
    "/heartbeat",
    auth=DeviceBearer(),
    response={
        204: None,
        400: ApiError,
        401: ApiError,
        403: ApiError,
        422: InvalidInput,
        429: TooMany,
    },
    summary="Envoyer un signal de vie (une fois par minute)",
)
def heartbeat(request: HttpRequest, payload: HeartbeatIn):
    credential: DeviceCredential = request.auth
    if not _may_report(credential):
        return error(403, "not_a_kit_device", NOT_A_KIT_DEVICE)
    if HEARTBEAT_LIMITER.hit(credential.pk) > HEARTBEATS_PER_MINUTE:
        return error(429, "too_many_heartbeats", TOO_MANY_HEARTBEATS, retry_after=60)
    heartbeat_record(device_id=credential.device_id, **payload.model_dump())
    return Status(204, None)


@router.get(
    "/me",
    auth=DeviceBearer(),
    response={200: DeviceOut, 401: ApiError, 403: ApiError},
    summary="Ce que la plateforme sait de l'appareil",
)
def me(request: HttpRequest):
    credential: DeviceCredential = request.auth
    device = Device.objects.select_related("kit").filter(pk=credential.device_id).first()
    if device is None or not _may_report(credential, device):
        return error(403, "not_a_kit_device", NOT_A_KIT_DEVICE)
    return {
        "id": device.pk,
        "serial": device.serial,
        "kind": device.kind,
        "kit": device.kit.code if device.kit_id else None,
        "software_version": device.software_version,
        "enrolled_at": device.enrolled_at,
        "last_seen_at": device.last_seen_at,
        "online": device.is_online(),
        "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
    }
