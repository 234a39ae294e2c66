"""Writing to the audit log: ``record(request_or_user, action, obj, detail="")``.

Called by the views for every view of a pupil's record and every change by staff (one
call each). What is written: the person's account id and the labels of the roles they
hold, the action, the object's type and id, and a short detail that must not be personal
(a step's name, never a name or an address). See ``models.AuditEntry``.
"""

from __future__ import annotations

from cartable.organisation.models import Role, RoleGrant

from .models import AuditEntry

Verb = AuditEntry.Verb


def _user_of(request_or_user):
    user = getattr(request_or_user, "user", request_or_user)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def role_label(user) -> str:
    if user is None:
        return "Système"
    held = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
    labels = [role.label for role in Role if role in held]
    if not labels and (user.is_staff or user.is_superuser):
        labels = ["Équipe technique"]
    return ", ".join(labels)[:200]


def object_type_of(obj) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj[:60]
    return obj._meta.label_lower


def record(request_or_user, action: str, obj, detail: str = "") -> AuditEntry:
    """Append one entry: ``request_or_user`` (a request, a user, or None for the system)
    did ``action`` (an ``AuditEntry.Verb``) on ``obj`` (a model instance, or a type name)."""
    user = _user_of(request_or_user)
    return AuditEntry.objects.create(
        user_id=user.pk if user is not None else None,
        role=role_label(user),
        action=Verb(action),
        object_type=object_type_of(obj),
        object_id="" if obj is None or isinstance(obj, str) else str(obj.pk or ""),
        detail=str(detail)[:200],
    )
