"""The audit log: who looked at or changed what, and when. Append only.

An entry names a person by their account id and the label of their roles at that moment,
an object by its type and id, and holds a short detail that is never personal (no name,
no email). Entries are kept ``AUDIT_RETENTION_DAYS`` (12 months), then deleted by
``cartable purge`` — the only deletion there is:

- the application refuses to change or delete an entry (``save`` of an existing entry,
  ``delete``, ``QuerySet.update`` and ``QuerySet.delete`` raise ``AuditLogImmutable``);
  there is no administration page for it;
- on PostgreSQL a trigger (migration 0002) refuses every ``UPDATE``, and every ``DELETE``
  of an entry younger than 12 months, whoever runs it; another (0003) refuses ``TRUNCATE``
  to every role but a superuser, the owner included; and in production the application's
  role owns no table (``cartable postgres_grants``), so it cannot switch them off.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

AUDIT_RETENTION_DAYS = 365  # 12 months; the PostgreSQL trigger says '12 months' too


class AuditLogImmutable(Exception):
    """An entry of the audit log may not be changed nor deleted."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogImmutable("Le journal d'audit ne se modifie pas.")

    def delete(self):
        raise AuditLogImmutable("Le journal d'audit ne se supprime pas.")

    def _purge_older_than(self, cutoff) -> int:
        """Delete the entries older than ``cutoff`` (the retention purge, nothing else)."""
        if cutoff > timezone.now() - timedelta(days=AUDIT_RETENTION_DAYS):
            raise AuditLogImmutable("Seules les entrées de plus de 12 mois se suppriment.")
        deleted, _ = models.QuerySet.delete(self.filter(at__lt=cutoff))
        return deleted


class AuditEntry(models.Model):
    class Verb(models.TextChoices):
        VIEW = "view", "Consultation"
        CREATE = "create", "Création"
        UPDATE = "update", "Modification"
        DELETE = "delete", "Suppression"
        EXPORT = "export", "Export des données (droit d'accès)"
        ERASE = "erase", "Effacement (droit à l'effacement)"
        PSEUDONYMISE = "pseudonymise", "Pseudonymisation"
        PURGE = "purge", "Purge des données échues"

    at = models.DateTimeField("quand", default=timezone.now, db_index=True)
    # Not a foreign key: deleting an account must neither delete nor change its entries.
    user_id = models.BigIntegerField("compte", null=True, blank=True, db_index=True)
    role = models.CharField("rôle", max_length=200, blank=True)
    action = models.CharField("action", max_length=20, choices=Verb.choices, db_index=True)
    object_type = models.CharField("type d'objet", max_length=60, db_index=True)
    object_id = models.CharField("identifiant", max_length=40, blank=True)
    detail = models.CharField("détail", max_length=200, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "entrée du journal d'audit"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise AuditLogImmutable("Le journal d'audit ne se modifie pas.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("Le journal d'audit ne se supprime pas.")
