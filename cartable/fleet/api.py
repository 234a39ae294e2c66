"""The device API: a kit's devices enrol once, then report themselves every minute.

- ``POST /api/devices/enrol``: a one-time enrolment code (printed on the device's label)
  and the device's serial number buy the device its own credential.
- ``POST /api/devices/heartbeat`` (``Authorization: Bearer <token>``): software version,
  network, signal, battery, uptime.
- ``GET /api/devices/me`` (Bearer): what the platform knows of the device.
- A kit's agent (``cartable_kit``) also reports its cameras, temperature and free disk in its
  heartbeats; the reply to a heartbeat carries the commands asked from the fleet pages
  (200 with ``commands``, 204 when there are none), and
  ``POST /api/devices/commands/{id}/result`` (Bearer) reports how each went.

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
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, Strict, StringConstraints

from cartable.core.ratelimit import Limiter
from cartable.organisation.access import Action, Actor, can

from .heartbeats import HEARTBEAT_INTERVAL_S, heartbeat_record
from .models import Device, DeviceCommand, DeviceCredential, Loan
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
    # A kit's agent only (cartable_kit): the cameras it sees, by stable name, its temperature
    # and its free disk space, when it knows them.
    cameras: (
        list[Annotated[str, Printable, StringConstraints(min_length=1, max_length=120)]] | None
    ) = Field(default=None, max_length=8, description="Cameras seen (V4L2 stable names).")
    temperature_c: float | None = Field(default=None, ge=-50, le=150, strict=True)
    disk_free_pct: Percent | None = Field(default=None, description="Free disk space, %.")


class CommandOut(Schema):
    id: int
    kind: Literal["restart", "test_image", "network_diagnostic"]


class HeartbeatOut(Schema):
    commands: list[CommandOut] = Field(description="Actions asked from the fleet pages.")


class CommandResultIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ok: bool = Field(strict=True)
    message: Annotated[
        str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")
    ] = Field(default="", description="What happened, for the kit's page (French).")


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
    loan: int | None = Field(
        default=None,
        description="The running loan of the device's kit: a kit's agent is its class side.",
    )


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
        200: HeartbeatOut,
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
    # Only a kit's agent (it reports its cameras) takes commands: other devices' heartbeats
    # stay three statements.
    commands = commands_deliver(credential.device_id) if payload.cameras is not None else []
    if commands:
        return Status(200, {"commands": commands})
    return Status(204, None)


def commands_deliver(device_id: int) -> list[dict]:
    """The commands not yet delivered to the device, marked delivered (at most 10)."""
    pending = list(
        DeviceCommand.objects.filter(device_id=device_id, delivered_at__isnull=True)
        .order_by("pk")
        .values("pk", "kind")[:10]
    )
    if not pending:
        return []
    DeviceCommand.objects.filter(pk__in=[c["pk"] for c in pending]).update(
        delivered_at=timezone.now()
    )
    return [{"id": c["pk"], "kind": c["kind"]} for c in pending]


UNKNOWN_COMMAND = "Commande inconnue pour cet appareil, ou son résultat est déjà arrivé."


@router.post(
    "/commands/{command_id}/result",
    auth=DeviceBearer(),
    response={
        204: None,
        400: ApiError,
        401: ApiError,
        403: ApiError,
        404: ApiError,
        422: InvalidInput,
    },
    summary="Envoyer le résultat d'une commande",
)
def command_result(request: HttpRequest, command_id: int, payload: CommandResultIn):
    credential: DeviceCredential = request.auth
    if not _may_report(credential):
        return error(403, "not_a_kit_device", NOT_A_KIT_DEVICE)
    done = DeviceCommand.objects.filter(
        pk=command_id, device_id=credential.device_id, done_at__isnull=True
    ).update(done_at=timezone.now(), ok=payload.ok, result=payload.message)
    if not done:
        return error(404, "unknown_command", UNKNOWN_COMMAND)
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
        "loan": _running_loan(device),
    }


def _running_loan(device: Device) -> int | None:
    if not device.kit_id:
        return None
    for loan in Loan.objects.filter(kit_id=device.kit_id).order_by("-pk")[:5]:
        if loan.is_active():
            return loan.pk
    return None
