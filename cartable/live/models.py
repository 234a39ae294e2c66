"""Live sessions and who attended them: when, for how long. Never what was seen or said."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from cartable.fleet.models import DeviceCredential, Loan


class LiveSession(models.Model):
    class EndReason(models.TextChoices):
        ENDED_BY_CLASS = "ended_by_class", "Terminée par la classe"
        ABANDONED = "abandoned", "Abandonnée (plus personne connecté)"
        LOAN_ENDED = "loan_ended", "Arrêtée : la mise à disposition a pris fin"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="live_sessions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_device = models.ForeignKey(
        DeviceCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "séance en direct"
        ordering = ["-started_at"]
        constraints = [
            # One live session at a time per loan, enforced by the database so two class
            # stations pressing « Démarrer » at once cannot both win.
            models.UniqueConstraint(
                fields=["loan"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_session_per_loan",
            )
        ]

    def __str__(self) -> str:
        return f"Séance {self.pk} ({self.loan_id})"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


class Attendance(models.Model):
    """One participant's presence in a session: from when they joined to when they left."""

    class Side(models.TextChoices):
        CLASS = "class", "Classe"
        PUPIL = "pupil", "Élève"

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="attendance")
    side = models.CharField(max_length=10, choices=Side.choices)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life of the connection holding the row: its consumer's heartbeat
    # and its messages refresh it. A row no live socket holds any more (its server was
    # killed) is closed at this time, never later (docs/protocol.md, "Presence").
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "présence"
        ordering = ["joined_at"]
        indexes = [models.Index(fields=["session", "side"])]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.joined_at:%H:%M}"


def presence_end():
    """When a presence ends, as a query expression over ``Attendance``: when it was closed,
    else (still open) its last sign of life. Every report that sums attendance uses this, so
    a row left open by a crash never counts past the last time anyone was seen."""
    return Coalesce("left_at", "last_seen_at", "joined_at")


def last_sign_of_life():
    """An open row's last sign of life (rows from before the heartbeat have only joined_at)."""
    return Coalesce("last_seen_at", "joined_at")


class PairingCode(models.Model):
    """A one-time code that pairs a pupil tablet with a loan.

    The code has two parts shown as one number: a 4-digit number that picks the code among
    the live ones (unique while live), and a secret of at least 6 digits, stored hashed and
    compared in constant time. Wrong secrets count against the code they were aimed at, so
    the limit of wrong tries applies per code.
    """

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="pairing_codes")
    locator = models.CharField(max_length=4)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    credential = models.OneToOneField(
        DeviceCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "code d'appairage"
        constraints = [
            models.UniqueConstraint(
                fields=["locator"],
                condition=models.Q(used_at__isnull=True, dead_at__isnull=True),
                name="pairing_locator_unique_while_open",
            )
        ]

    def __str__(self) -> str:
        return f"Code d'appairage {self.pk} ({self.loan_id})"


class SessionQuality(models.Model):
    """What one side of a session received, folded from its periodic samples.

    Only sums and counts are kept (never the raw samples), enough for averages, shares of
    good/degraded/poor time and the share relayed, per session and side.
    """

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="quality")
    side = models.CharField(max_length=10, choices=Attendance.Side.choices)
    samples = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    poor = models.PositiveIntegerField(default=0)
    relayed = models.PositiveIntegerField(default=0)
    rtt_samples = models.PositiveIntegerField(default=0)
    rtt_ms_sum = models.FloatField(default=0)
    rtt_ms_max = models.FloatField(default=0)
    loss_pct_sum = models.FloatField(default=0)
    fps_samples = models.PositiveIntegerField(default=0)
    fps_sum = models.FloatField(default=0)
    freezes = models.PositiveIntegerField(default=0)
    bitrate_samples = models.PositiveIntegerField(default=0)
    bitrate_kbps_sum = models.FloatField(default=0)

    class Meta:
        verbose_name = "qualité de séance"
        constraints = [
            models.UniqueConstraint(fields=["session", "side"], name="one_quality_per_side")
        ]

    def __str__(self) -> str:
        return f"Qualité {self.session_id} {self.side}"
