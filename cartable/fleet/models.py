"""Kits and their devices, loans, device heartbeats, and the credentials that let a
device act for a kit or a loan.

Statuses of kits and loans change only through ``services`` (each change dated and
attributed in ``KitStatusChange`` / ``LoanEvent``); the tables of allowed changes are here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cartable.organisation.models import Department, Pupil, SchoolClass


class Kit(models.Model):
    class Generation(models.TextChoices):
        G3 = "G3", "3e génération"
        V5 = "V5", "V5"

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "En stock"
        RESERVED = "reserved", "Réservé"
        SHIPPED = "shipped", "Expédié"
        INSTALLED = "installed", "Installé"
        ON_LOAN = "on_loan", "En prêt"
        RETURNING = "returning", "En retour"
        IN_REPAIR = "in_repair", "En réparation"
        RETIRED = "retired", "Réformé"

    code = models.CharField("référence", max_length=30, unique=True)
    generation = models.CharField(
        "génération", max_length=4, choices=Generation.choices, default=Generation.G3
    )
    status = models.CharField(
        "statut", max_length=12, choices=Status.choices, default=Status.IN_STOCK, db_index=True
    )
    status_changed_at = models.DateTimeField("statut depuis", default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "cartable connecté"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


S = Kit.Status
# from -> the statuses a kit may go to. Anything else (retired to on loan, say) is refused.
KIT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.IN_STOCK: frozenset({S.RESERVED, S.IN_REPAIR, S.RETIRED}),
    S.RESERVED: frozenset({S.SHIPPED, S.IN_STOCK}),
    S.SHIPPED: frozenset({S.INSTALLED, S.RETURNING}),
    S.INSTALLED: frozenset({S.ON_LOAN, S.RETURNING}),
    S.ON_LOAN: frozenset({S.RETURNING}),
    S.RETURNING: frozenset({S.IN_STOCK, S.IN_REPAIR}),
    S.IN_REPAIR: frozenset({S.IN_STOCK, S.RETIRED}),
    S.RETIRED: frozenset(),
}
del S


class KitStatusChange(models.Model):
    """One dated, attributed change of a kit's status (append only)."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Kit.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Kit.Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("remarque", max_length=200, blank=True)

    class Meta:
        verbose_name = "changement de statut"
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["kit", "at"])]

    def __str__(self) -> str:
        return f"{self.kit_id}: {self.from_status} → {self.to_status}"


class Device(models.Model):
    """One piece of a kit, known by its serial number."""

    class Kind(models.TextChoices):
        CLASS_BOX = "class_box", "Boîtier de classe"
        TEACHER_TABLET = "teacher_tablet", "Tablette de l'enseignant"
        BOARD_CAMERA = "board_camera", "Caméra du tableau"
        CLASS_CAMERA = "class_camera", "Caméra de la classe"
        ROUTER_4G = "router_4g", "Routeur 4G"
        PUPIL_TABLET = "pupil_tablet", "Tablette de l'élève"
        OTHER = "other", "Autre"

    class Network(models.TextChoices):
        WIFI = "wifi", "Wi-Fi"
        CELLULAR = "4g", "4G"
        WIRED = "wired", "Filaire"

    kit = models.ForeignKey(
        Kit, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    serial = models.CharField("numéro de série", max_length=60, unique=True)
    software_version = models.CharField("version logicielle", max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enrolled_at = models.DateTimeField("enrôlé le", null=True, blank=True)
    # The last heartbeat, kept on the device so "which devices are online" is one query.
    last_seen_at = models.DateTimeField("vu le", null=True, blank=True, db_index=True)
    last_network = models.CharField(max_length=8, choices=Network.choices, blank=True)
    last_signal = models.PositiveSmallIntegerField(null=True, blank=True)  # 0–100 %
    last_battery = models.PositiveSmallIntegerField(null=True, blank=True)  # 0–100 %
    last_uptime_s = models.PositiveIntegerField(null=True, blank=True)
    # What a kit's agent (cartable_kit) reports besides the usual heartbeat: the cameras it
    # sees (their stable V4L2 names), its temperature and free disk space, when known.
    last_cameras = models.JSONField(default=list, blank=True)
    last_temperature_c = models.FloatField(null=True, blank=True)
    last_disk_free_pct = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "appareil"
        ordering = ["kit_id", "kind", "serial"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"

    def is_online(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.last_seen_at is not None
            and (now - self.last_seen_at).total_seconds() <= settings.FLEET["ONLINE_WITHIN_S"]
        )


class EnrolmentCode(models.Model):
    """A one-time code printed (as a QR code) on a device's label; a device trades it once
    for its own credential. Only a hash is stored."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "code d'enrôlement"

    def __str__(self) -> str:
        return f"Code d'enrôlement {self.pk} ({self.device_id})"


class Heartbeat(models.Model):
    """One raw heartbeat, kept for a short window (``FLEET['HEARTBEAT_RAW_DAYS']``) and then
    folded into ``HeartbeatDay`` by ``cartable fold_heartbeats``."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="heartbeats")
    at = models.DateTimeField()
    software_version = models.CharField(max_length=40, blank=True)
    network = models.CharField(max_length=8, choices=Device.Network.choices)
    signal = models.PositiveSmallIntegerField(null=True, blank=True)
    battery = models.PositiveSmallIntegerField(null=True, blank=True)
    uptime_s = models.PositiveIntegerField()

    class Meta:
        verbose_name = "signal de vie"
        indexes = [models.Index(fields=["at"]), models.Index(fields=["device", "at"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.at:%Y-%m-%d %H:%M}"


class HeartbeatDay(models.Model):
    """A device's heartbeats of one day (in the platform's time zone), folded: counts,
    sums and extremes, enough for the averages and for "was it online that day"."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="heartbeat_days")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    wifi = models.PositiveIntegerField(default=0)
    cellular = models.PositiveIntegerField(default=0)
    wired = models.PositiveIntegerField(default=0)
    signal_n = models.PositiveIntegerField(default=0)
    signal_sum = models.PositiveIntegerField(default=0)
    signal_min = models.PositiveSmallIntegerField(null=True, blank=True)
    battery_min = models.PositiveSmallIntegerField(null=True, blank=True)
    uptime_max = models.PositiveIntegerField(default=0)
    software_version = models.CharField(max_length=40, blank=True)  # the day's last

    class Meta:
        verbose_name = "signaux de vie du jour"
        constraints = [models.UniqueConstraint(fields=["device", "day"], name="one_heartbeat_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.day}"


class LoanQuerySet(models.QuerySet):
    def active(self, today=None):
        """Loans running today: started, not past their end date, not ended early."""
        today = today or timezone.localdate()
        return self.filter(
            starts_on__lte=today, ends_on__gte=today, ended_at__isnull=True, kit__isnull=False
        )

    def holding_kit(self):
        """Loans that hold their kit: assigned and not yet given back (or cancelled)."""
        return self.filter(status__in=Loan.HOLDING_KIT)

    def overdue(self, today=None):
        """Loans past their planned end that nobody ended nor cancelled (they could still be
        extended): their coordinator must extend, end or cancel them."""
        today = today or timezone.localdate()
        return self.filter(
            status__in=LOAN_STEPS[LoanStep.EXTEND], ended_at__isnull=True, ends_on__lt=today
        )


class Loan(models.Model):
    """A kit lent for one pupil and their class, from a date to a date.

    A département coordinator asks for it (``requested``, no kit yet); the fleet team
    assigns a kit (``assigned``) and ships it (``shipped``); installation is confirmed on
    the class side and on the pupil side (``active``); it may be extended, is ended
    (``ended``: the kit is coming back) and closed when the kit is back (``returned``).
    Each step is a dated, attributed ``LoanEvent``.
    """

    class PlaceKind(models.TextChoices):
        HOSPITAL = "hospital", "Hôpital"
        HOME = "home", "Domicile"
        HOSPITAL_SCHOOL = "hospital_school", "Unité d'enseignement à l'hôpital"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Demandé"
        ASSIGNED = "assigned", "Cartable attribué"
        SHIPPED = "shipped", "Expédié"
        ACTIVE = "active", "En cours"
        ENDED = "ended", "Terminé, retour attendu"
        RETURNED = "returned", "Clos, cartable rendu"
        CANCELLED = "cancelled", "Annulé"

    # Loans that hold their kit: assigned and not yet given back (nor cancelled).
    HOLDING_KIT = (Status.ASSIGNED, Status.SHIPPED, Status.ACTIVE, Status.ENDED)
    # Loans with a kit given and not yet ended: the pupil's name is still needed (privacy).
    UNDER_WAY = (Status.ASSIGNED, Status.SHIPPED, Status.ACTIVE)
    # Loans whose kit has left for the class and the pupil (reports: "running loans").
    RUNNING = (Status.SHIPPED, Status.ACTIVE)

    kit = models.ForeignKey(
        Kit, null=True, blank=True, on_delete=models.PROTECT, related_name="loans"
    )
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="loans")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="loans")
    starts_on = models.DateField("début")
    ends_on = models.DateField("fin prévue")
    place_kind = models.CharField(
        "lieu", max_length=20, choices=PlaceKind.choices, default=PlaceKind.HOME
    )
    # Where the pupil is (a hospital may lie in another département than the school).
    pupil_department = models.ForeignKey(
        Department,
        verbose_name="département de l'élève",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "étape", max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField("attribué le", null=True, blank=True)
    shipped_at = models.DateTimeField("expédié le", null=True, blank=True)
    class_installed_at = models.DateTimeField("installé en classe le", null=True, blank=True)
    pupil_installed_at = models.DateTimeField("installé chez l'élève le", null=True, blank=True)
    ended_at = models.DateTimeField("terminé le", null=True, blank=True)
    returned_at = models.DateTimeField("rendu le", null=True, blank=True)
    created_at = models.DateTimeField("demandé le", default=timezone.now)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = "mise à disposition"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="loan_dates_ordered"
            ),
            # No kit on two loans at once, whatever two people click at the same moment.
            models.UniqueConstraint(
                fields=["kit"],
                condition=models.Q(status__in=["assigned", "shipped", "active", "ended"]),
                name="one_open_loan_per_kit",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["requested", "cancelled"])
                | models.Q(kit__isnull=False),
                name="loan_has_kit_once_assigned",
            ),
        ]
        indexes = [models.Index(fields=["kit", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.kit} → {self.school_class}"

    def is_active(self, today=None) -> bool:
        today = today or timezone.localdate()
        return (
            self.kit_id is not None
            and self.ended_at is None
            and self.starts_on <= today <= self.ends_on
        )

    def is_overdue(self, today=None) -> bool:
        """Past its planned end, and nobody ended it (see ``LoanQuerySet.overdue``)."""
        today = today or timezone.localdate()
        return loan_may(self, LoanStep.EXTEND) and self.ended_at is None and self.ends_on < today

    def may(self, step: str) -> bool:
        """Whether the loan's life cycle allows ``step`` now (``LOAN_STEPS``)."""
        return loan_may(self, step)


class LoanStep(models.TextChoices):
    """What people do to a loan after it is asked for, each a service of ``services.py``."""

    ASSIGN = "assign", "Attribuer un cartable"
    SHIP = "ship", "Expédier"
    INSTALL_CLASS = "install_class", "Confirmer l'installation en classe"
    INSTALL_PUPIL = "install_pupil", "Confirmer l'installation chez l'élève"
    EXTEND = "extend", "Prolonger"
    END = "end", "Terminer"
    CANCEL = "cancel", "Annuler"
    RETURN = "return", "Enregistrer le retour"


L = Loan.Status
# The loan's life cycle in one table: step -> the statuses it may be taken from. Services
# refuse a step from any other status, and pages and templates offer it only then (they
# all ask ``loan_may``); the status each step leads to is set by its service.
LOAN_STEPS: dict[str, frozenset[str]] = {
    LoanStep.ASSIGN: frozenset({L.REQUESTED}),
    LoanStep.SHIP: frozenset({L.ASSIGNED}),
    LoanStep.INSTALL_CLASS: frozenset({L.SHIPPED, L.ACTIVE}),
    LoanStep.INSTALL_PUPIL: frozenset({L.SHIPPED, L.ACTIVE}),
    LoanStep.EXTEND: frozenset({L.REQUESTED, L.ASSIGNED, L.SHIPPED, L.ACTIVE}),
    LoanStep.END: frozenset({L.SHIPPED, L.ACTIVE}),
    LoanStep.CANCEL: frozenset({L.REQUESTED, L.ASSIGNED}),
    LoanStep.RETURN: frozenset({L.ENDED}),
}
del L
# An installation is confirmed once per side: the field that records it.
INSTALLED_FIELD = {
    LoanStep.INSTALL_CLASS: "class_installed_at",
    LoanStep.INSTALL_PUPIL: "pupil_installed_at",
}


def loan_may(loan: Loan, step: str) -> bool:
    """Whether ``step`` may be taken on ``loan`` now (rights aside: see the access layer)."""
    if loan.status not in LOAN_STEPS[step]:
        return False
    field = INSTALLED_FIELD.get(step)
    return field is None or getattr(loan, field) is None


class LoanEvent(models.Model):
    """One dated, attributed step of a loan (append only)."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Demande"
        ASSIGNED = "assigned", "Cartable attribué"
        SHIPPED = "shipped", "Expédition"
        CLASS_INSTALLED = "class_installed", "Installation en classe confirmée"
        PUPIL_INSTALLED = "pupil_installed", "Installation chez l'élève confirmée"
        EXTENDED = "extended", "Prolongation"
        ENDED = "ended", "Fin"
        RETURNED = "returned", "Retour du cartable"
        CANCELLED = "cancelled", "Annulation"
        # Not a step: the platform told the coordinator the planned end had passed.
        OVERDUE = "overdue", "Fin prévue dépassée, coordonnateur prévenu"

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField("détail", max_length=200, blank=True)

    class Meta:
        verbose_name = "étape de mise à disposition"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.kind}"


class DeviceCredential(models.Model):
    """A long-lived, revocable credential held by a device, never by a person.

    A pupil tablet gets one when it is paired with a loan; a kit's class station gets one
    bound to the kit. Only a hash of the secret is stored.
    """

    class Kind(models.TextChoices):
        PUPIL_TABLET = "pupil_tablet", "Tablette de l'élève"
        CLASS_STATION = "class_station", "Poste de la classe"
        KIT_DEVICE = "kit_device", "Appareil du parc (signaux de vie)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials"
    )
    kit = models.ForeignKey(
        Kit, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials"
    )
    secret_hash = models.CharField(max_length=64)
    label = models.CharField("appareil", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "identifiant d'appareil"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="pupil_tablet",
                        loan__isnull=False,
                        kit__isnull=True,
                        device__isnull=True,
                    )
                    | models.Q(
                        kind="class_station",
                        kit__isnull=False,
                        loan__isnull=True,
                        device__isnull=True,
                    )
                    | models.Q(
                        kind="kit_device", device__isnull=False, kit__isnull=True, loan__isnull=True
                    )
                ),
                name="credential_bound_to_its_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class DeviceCommand(models.Model):
    """An action asked of a kit's agent from the fleet pages, delivered in the reply to its
    next heartbeat; the agent sends the result back (docs/kit.md, « Gestion à distance »)."""

    class Kind(models.TextChoices):
        RESTART = "restart", "Redémarrer l'agent"
        TEST_IMAGE = "test_image", "Envoyer une image de test"
        NETWORK_DIAGNOSTIC = "network_diagnostic", "Diagnostic réseau"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    result = models.TextField(blank=True)

    class Meta:
        verbose_name = "commande d'appareil"
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["device", "done_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.device_id})"
