"""Kits, their loans, and the credentials that let a device act for a kit or a loan."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cartable.organisation.models import Pupil, SchoolClass


class Kit(models.Model):
    class Generation(models.TextChoices):
        G3 = "G3", "3e génération"
        V5 = "V5", "V5"

    code = models.CharField("référence", max_length=30, unique=True)
    generation = models.CharField(
        "génération", max_length=4, choices=Generation.choices, default=Generation.G3
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "cartable connecté"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class LoanQuerySet(models.QuerySet):
    def active(self, today=None):
        """Loans running today: started, not past their end date, not ended early."""
        today = today or timezone.localdate()
        return self.filter(starts_on__lte=today, ends_on__gte=today, ended_at__isnull=True)


class Loan(models.Model):
    """A kit lent for one pupil and their class, from a date to a date."""

    class PlaceKind(models.TextChoices):
        HOSPITAL = "hospital", "Hôpital"
        HOME = "home", "Domicile"
        HOSPITAL_SCHOOL = "hospital_school", "Unité d'enseignement à l'hôpital"

    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, related_name="loans")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="loans")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="loans")
    starts_on = models.DateField("début")
    ends_on = models.DateField("fin prévue")
    place_kind = models.CharField(
        "lieu", max_length=20, choices=PlaceKind.choices, default=PlaceKind.HOME
    )
    ended_at = models.DateTimeField("terminé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = "mise à disposition"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="loan_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kit} → {self.school_class}"

    def is_active(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.ended_at is None and self.starts_on <= today <= self.ends_on


class DeviceCredential(models.Model):
    """A long-lived, revocable credential held by a device, never by a person.

    A pupil tablet gets one when it is paired with a loan; a kit's class station gets one
    bound to the kit. Only a hash of the secret is stored.
    """

    class Kind(models.TextChoices):
        PUPIL_TABLET = "pupil_tablet", "Tablette de l'élève"
        CLASS_STATION = "class_station", "Poste de la classe"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials"
    )
    kit = models.ForeignKey(
        Kit, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials"
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
                    models.Q(kind="pupil_tablet", loan__isnull=False, kit__isnull=True)
                    | models.Q(kind="class_station", kit__isnull=False, loan__isnull=True)
                ),
                name="credential_bound_to_its_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
