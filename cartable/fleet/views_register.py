"""Pages of the fleet register, for the fleet team (``Action.FLEET_MANAGE``): the list of
kits, a new kit, a kit's status changed by hand, devices (one by one or from a CSV file)
and their enrolment labels.

Anyone else signed in gets 404, an anonymous visitor the sign-in page. Every write goes
through ``services``; a refused change shows the service's French message and changes
nothing. No pupil's name appears on these pages: a kit on loan shows its school and the
kind of place only.

For the kit page (``fleet:kit``, in views_reports.py): the status form and the kit's
devices with their links live in the fragment ``fleet/_kit_manage.html``. Give it its
context with ``context.update(kit_manage_context(actor, kit))`` and write
``{% include "fleet/_kit_manage.html" %}`` where it belongs; the fragment shows nothing for
someone who may not manage the fleet (the function then returns ``{}``). The fragment
brings no heading above h2 and no status region: the page's own
``organisation/_messages.html`` announces "status changed" after the redirect.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cartable.core.views import posted, sign_in_redirect
from cartable.live.views import request_actor
from cartable.organisation.access import Action, Actor, can

from . import services
from .forms_register import (
    DeviceForm,
    DevicesImportForm,
    KitFilterForm,
    KitForm,
    KitStatusForm,
)
from .importers import devices_import as import_devices
from .models import Device, DeviceCommand, EnrolmentCode, Kit, Loan

log = logging.getLogger("cartable.fleet")

KITS_PER_PAGE = 100
UNATTACHED_SHOWN = 50


def kit_manage_context(actor: Actor, kit: Kit) -> dict:
    """What ``fleet/_kit_manage.html`` needs, or ``{}`` when ``actor`` may not manage the
    fleet: ``kit_manage`` with the kit, its status form (only the statuses it may go to
    now) and its devices."""
    if not can(actor, Action.FLEET_MANAGE, kit):
        return {}
    devices = list(kit.devices.order_by("kind", "serial"))
    boxes = [d for d in devices if d.kind == Device.Kind.CLASS_BOX]
    commands = list(DeviceCommand.objects.filter(device__in=boxes).select_related("device")[:10])
    return {
        "kit_manage": {
            "kit": kit,
            "form": KitStatusForm(kit=kit),
            "devices": devices,
            # The kit's agent (cartable_kit) runs on its class box: remote management.
            "agents": [(box, box.is_online()) for box in boxes],
            "commands": commands,
            "command_kinds": DeviceCommand.Kind.choices,
        }
    }


# Helpers ------------------------------------------------------------------------------------


def _fleet_actor(request: HttpRequest) -> Actor | None:
    """The actor if they may manage the fleet; None for an anonymous visitor (who is sent
    to sign in); 404 for anyone else."""
    if not request.user.is_authenticated:
        return None
    actor = request_actor(request)
    if not can(actor, Action.FLEET_MANAGE):
        raise Http404
    return actor


def _get(queryset, pk: int):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def kit_page_url(kit: Kit) -> str:
    """The kit's page (views_reports.py), where the fragment sits."""
    return reverse("fleet:kit", args=[kit.pk])


# Kits ---------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def kits(request: HttpRequest) -> HttpResponse:
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    filters = KitFilterForm(request.GET or None)
    status = generation = ""
    if filters.is_valid():
        status = filters.cleaned_data["statut"]
        generation = filters.cleaned_data["generation"]

    register = Kit.objects.all()
    if generation:
        register = register.filter(generation=generation)
    counts = dict(register.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = [
        {
            "value": value,
            "label": label,
            "count": counts.get(value, 0),
            "query": urlencode({"statut": value, "generation": generation}),
        }
        for value, label in Kit.Status.choices
    ]

    listed = register.filter(status=status) if status else register
    online_since = timezone.now() - timedelta(seconds=settings.FLEET["ONLINE_WITHIN_S"])
    listed = (
        listed.annotate(
            devices_count=Count("devices", distinct=True),
            devices_online=Count(
                "devices", filter=Q(devices__last_seen_at__gte=online_since), distinct=True
            ),
        )
        .prefetch_related(
            Prefetch(
                "loans",
                queryset=Loan.objects.holding_kit().select_related(
                    "school_class__school__department"
                ),
                to_attr="holding",
            )
        )
        .order_by("code")
    )
    page = Paginator(listed, KITS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"kit": kit, "loan": kit.holding[0] if kit.holding else None, "url": kit_page_url(kit)}
        for kit in page.object_list
    ]
    kept = {key: value for key, value in (("statut", status), ("generation", generation)) if value}
    unattached = Device.objects.filter(kit__isnull=True).order_by("kind", "serial")
    return render(
        request,
        "fleet/register_kits.html",
        {
            "filters": filters,
            "status": status,
            "status_label": Kit.Status(status).label if status else "",
            "generation": generation,
            "generation_label": Kit.Generation(generation).label if generation else "",
            "by_status": by_status,
            "total": sum(counts.values()),
            "rows": rows,
            "page": page,
            "page_query": urlencode(kept),
            "unattached": list(unattached[:UNATTACHED_SHOWN]),
            "unattached_count": unattached.count(),
        },
    )


@require_http_methods(["GET", "POST"])
def kit_create(request: HttpRequest) -> HttpResponse:
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    form = KitForm(*posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            kit = services.kit_create(**form.cleaned_data, by=request.user)
        except services.FleetError as exc:
            form.add_error("code", str(exc))
        else:
            log.info("kit created id=%s", kit.pk)
            messages.success(request, f"Le cartable {kit.code} est enregistré, en stock.")
            return redirect(kit_page_url(kit))
    status = 400 if form.errors else 200
    return render(request, "fleet/register_kit_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def kit_status(request: HttpRequest, kit_id: int) -> HttpResponse:
    """A kit's status changed by hand (POST; the form is also on the kit page). GET shows
    the kit's management on a page of its own."""
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    kit = _get(Kit.objects, kit_id)
    context = kit_manage_context(actor, kit)
    status = 200
    if request.method == "POST":
        form = KitStatusForm(request.POST, kit=kit)
        if form.is_valid():
            to = form.cleaned_data["to"]
            try:
                kit = services.kit_set_status(
                    kit=kit, to=to, by=request.user, note=form.cleaned_data["note"]
                )
            except services.FleetError as exc:
                form.add_error("to", str(exc))
            else:
                log.info("kit status id=%s to=%s", kit.pk, kit.status)
                messages.success(
                    request,
                    f"Le cartable {kit.code} est maintenant « {kit.get_status_display()} ».",
                )
                return redirect(kit_page_url(kit))
        context["kit_manage"]["form"] = form
        status = 400
    context.update(kit=kit, kit_url=kit_page_url(kit))
    return render(request, "fleet/register_kit_status.html", context, status=status)


# Devices ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def device_create(request: HttpRequest) -> HttpResponse:
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    initial = {}
    wanted = request.GET.get("kit", "")
    if wanted.isascii() and wanted.isdigit():
        kit = Kit.objects.filter(pk=int(wanted)).first()
        if kit is not None:
            initial["kit"] = kit.code
    form = DeviceForm(*posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.device_create(**form.cleaned_data, by=request.user)
        except services.FleetError as exc:
            form.add_error(None, str(exc))
        else:
            log.info("device created id=%s", device.pk)
            where = f" au cartable {device.kit.code}" if device.kit else ""
            messages.success(
                request,
                f"{device.get_kind_display()} {device.serial} ajouté{where}. "
                "Imprimez son étiquette d'enrôlement avant de l'installer.",
            )
            if device.kit is not None:
                return redirect(kit_page_url(device.kit))
            return redirect("fleet:device_edit", device.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "fleet/register_device_form.html",
        {"form": form, "creating": True},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, device_id: int) -> HttpResponse:
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    device = _get(Device.objects.select_related("kit"), device_id)
    initial = {
        "kind": device.kind,
        "software_version": device.software_version,
        "kit": device.kit.code if device.kit else "",
    }
    form = DeviceForm(*posted(request), initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.device_update(device=device, **form.cleaned_data, by=request.user)
        except services.FleetError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"L'appareil {device.serial} est enregistré.")
            if device.kit is not None:
                return redirect(kit_page_url(device.kit))
            return redirect("fleet:device_edit", device.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "fleet/register_device_form.html",
        {
            "form": form,
            "creating": False,
            "device": device,
            "kit_url": kit_page_url(device.kit) if device.kit else "",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def devices_import(request: HttpRequest) -> HttpResponse:
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    form = DevicesImportForm(*posted(request, files=True))
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = import_devices(file=form.cleaned_data["file"])
            if result.ok:
                log.info("devices imported created=%s", result.created)
            else:
                status = 400
        else:
            status = 400
    return render(
        request,
        "fleet/register_devices_import.html",
        {"form": form, "result": result},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def enrolment_label(request: HttpRequest, device_id: int) -> HttpResponse:
    """A device's enrolment label. GET tells whether a code is pending, never the code;
    POST issues a new code (the previous unused ones stop working) and shows it, once, as
    text and as a QR code, with the serial number and the kit, ready to print."""
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    device = _get(Device.objects.select_related("kit"), device_id)
    context: dict = {
        "device": device,
        "kit_url": kit_page_url(device.kit) if device.kit else "",
        "code": None,
    }
    if request.method == "POST":
        enrolment, code = services.enrolment_code_issue(device=device, by=request.user)
        log.info("enrolment code issued device=%s code=%s", device.pk, enrolment.pk)
        context.update(
            code=code,
            enrolment=enrolment,
            qr_svg=segno.make(code, error="m").svg_inline(
                scale=4, title=f"Code QR d'enrôlement de l'appareil {device.serial}"
            ),
        )
    pending = EnrolmentCode.objects.filter(
        device=device, used_at__isnull=True, expires_at__gt=timezone.now()
    )
    if context["code"] is not None:
        pending = pending.exclude(pk=context["enrolment"].pk)
    context["pending"] = pending.order_by("-created_at").first()
    return render(request, "fleet/register_label.html", context)


# The kit's agent: remote management --------------------------------------------------------


@require_http_methods(["POST"])
def device_command(request: HttpRequest, device_id: int) -> HttpResponse:
    """Queue « Redémarrer l'agent », « Envoyer une image de test » or « Diagnostic réseau »
    for a class box's agent; it gets it in the reply to its next heartbeat (docs/kit.md)."""
    actor = _fleet_actor(request)
    if actor is None:
        return sign_in_redirect(request)
    device = _get(Device.objects.select_related("kit"), device_id)
    kind = request.POST.get("kind", "")
    if (
        device.kind != Device.Kind.CLASS_BOX
        or device.kit is None
        or kind not in DeviceCommand.Kind.values
    ):
        messages.error(request, "Cette action n'existe pas pour cet appareil.")
        return redirect(kit_page_url(device.kit) if device.kit else reverse("fleet:kits"))
    command = DeviceCommand.objects.create(device=device, kind=kind, requested_by=request.user)
    log.info("device command id=%s device=%s kind=%s", command.pk, device.pk, kind)
    messages.success(
        request,
        f"« {command.get_kind_display()} » demandé au boîtier {device.serial} : "
        "il le recevra avec son prochain signal de vie (dans la minute).",
    )
    return redirect(kit_page_url(device.kit))
