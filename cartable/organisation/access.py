"""The one access layer: "may this actor do this to this object?".

Every view, API endpoint and WebSocket consumer asks here; none checks rights by itself.
An actor is a person (possibly anonymous) and, separately, a device credential (a paired
pupil tablet, a kit's class station), because a device acts for a loan or a kit, never
for a person.

A person's rights come from their role grants (``RoleGrant``), each a role over a scope
(see ``ROLE_SCOPE`` in models.py). ``RULES`` says, for each action and each kind of object,
which roles give it: the person may act on the objects that lie within the scope of one of
their grants of those roles (a teacher's class holds its pupils and loans, a département
holds its schools, an académie its départements). Roles without a scope hold everywhere.

``can`` answers for one object and the ``*_for`` functions give the scoped querysets; both
are built from the same rules, so a page lists exactly what it then lets people open.

The académie (DANE) and national levels are given no action on pupils or loans: they see
counts (``FIGURES_VIEW``), never a pupil's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, reduce
from operator import or_
from typing import TYPE_CHECKING

from django.db.models import Q

from .models import ROLE_SCOPE, Academy, Department, Pupil, Role, School, SchoolClass

if TYPE_CHECKING:
    from cartable.fleet.models import DeviceCredential


class Action(StrEnum):
    LIVE_CLASS_STATION = "live.class_station"  # run the class side of a loan's live link
    LIVE_PUPIL = "live.pupil"  # be the pupil side of a loan's live link
    PAIRING_MANAGE = "pairing.manage"  # show pairing codes, list and revoke paired tablets
    VIEW = "organisation.view"  # see loans, pupils, classes, schools, with pupils' names
    CLASS_MANAGE = "class.manage"  # create classes in a school, edit a class
    PUPIL_MANAGE = "pupil.manage"  # add pupils to a class, edit a pupil
    FIGURES_VIEW = "figures.view"  # counts of an académie, a département, or the country
    KIT_TRACK = "fleet.track"  # where each kit is lent, when, at what kind of place (no name)
    FLEET_MANAGE = "fleet.manage"  # the register: kits, devices, statuses; assign, ship, return
    LOAN_REQUEST = "loan.request"  # ask for a kit for a pupil of a class
    LOAN_MANAGE = "loan.manage"  # extend, end or cancel a loan
    INSTALL_CLASS = "loan.install_class"  # confirm the kit is installed in the class
    INSTALL_PUPIL = "loan.install_pupil"  # confirm the pupil's tablet is installed
    DEVICE_REPORT = "device.report"  # a kit device sends its own heartbeats
    INVITE = "invitation.send"  # invite people to roles (which ones: ``may_grant``)
    SCHOOLS_IMPORT = "schools.import"  # load the national school directory
    AUDIT_VIEW = "privacy.audit_view"  # read the audit log and the processing register
    RIGHTS_MANAGE = "privacy.rights"  # export, erase or pseudonymise a pupil's data
    CONSENT_MANAGE = "consent.manage"  # record the authorisations a loan needs before lessons
    CONSENT_TEACHER = "consent.teacher"  # a teacher records their own agreement for a loan
    SURVEY_REVIEW = "surveys.review"  # approve or reject the free texts of survey answers
    WORK_VIEW = "schoolwork.view"  # see a loan's folder « Travail » and open its files
    WORK_HAND_OUT = "schoolwork.hand_out"  # hand a document out to the pupil, set work
    WORK_CORRECT = "schoolwork.correct"  # annotate the pupil's returned work, hand it back
    WORK_RETURN = "schoolwork.return"  # the pupil gives their work back (their tablet only)


@dataclass(frozen=True)
class Actor:
    """Who acts, for one request or one connection.

    The person's grants are read once, on first use, and kept for the actor's life (a
    request, a WebSocket handshake): a page asks ``can`` a dozen times, the database once.
    """

    user: object | None = None  # a django User, possibly AnonymousUser
    device: DeviceCredential | None = None

    @property
    def is_person(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_authenticated", False))

    @cached_property
    def grants(self) -> dict[str, set[int]]:
        """role -> the ids of its scopes (``grants_of``), read once."""
        return grants_of(self.user)


# action -> model -> the roles that give it over the objects within their scope.
_NAMED = (Role.TEACHER, Role.SCHOOL_HEAD, Role.DEPARTMENT, Role.HOSPITAL_STAFF, Role.FAMILY)
RULES: dict[Action, dict[str, tuple[str, ...]]] = {
    Action.LIVE_CLASS_STATION: {"loan": (Role.TEACHER,)},
    # The coordinator of the loan's département may pair the tablet (it is often they who
    # bring it), but is not a class station: only the class's teachers run the class side.
    Action.PAIRING_MANAGE: {"loan": (Role.TEACHER, Role.DEPARTMENT)},
    Action.VIEW: {
        "loan": _NAMED,
        "pupil": _NAMED,
        "school_class": _NAMED,
        # Schools are public (the national directory): the DANE finds volunteer schools.
        "school": (*_NAMED, Role.ACADEMY),
    },
    Action.CLASS_MANAGE: {"school": (Role.DEPARTMENT,), "school_class": (Role.DEPARTMENT,)},
    Action.PUPIL_MANAGE: {"school_class": (Role.DEPARTMENT,), "pupil": (Role.DEPARTMENT,)},
    Action.FIGURES_VIEW: {
        "academy": (Role.ACADEMY, Role.NATIONAL),
        "department": (Role.DEPARTMENT, Role.ACADEMY, Role.NATIONAL),
    },
    # Where kits are lent, when and at what kind of place, and how much they are used: the
    # fleet team everywhere, the steering levels within their scope (never a pupil's name).
    Action.KIT_TRACK: {
        "loan": (Role.FLEET, Role.NATIONAL, Role.ACADEMY, Role.DEPARTMENT),
        "academy": (Role.FLEET, Role.NATIONAL, Role.ACADEMY),
        "department": (Role.FLEET, Role.NATIONAL, Role.ACADEMY, Role.DEPARTMENT),
    },
    Action.FLEET_MANAGE: {"loan": (Role.FLEET,)},
    Action.LOAN_REQUEST: {"school_class": (Role.DEPARTMENT,), "pupil": (Role.DEPARTMENT,)},
    Action.LOAN_MANAGE: {"loan": (Role.DEPARTMENT, Role.FLEET)},
    Action.INSTALL_CLASS: {
        "loan": (Role.TEACHER, Role.SCHOOL_HEAD, Role.DEPARTMENT, Role.FLEET),
    },
    Action.INSTALL_PUPIL: {
        "loan": (Role.FAMILY, Role.HOSPITAL_STAFF, Role.DEPARTMENT, Role.FLEET),
    },
    # The authorisations before the first lesson (cartable/consent): the département's
    # coordinator records them; a teacher of the class records their own agreement.
    Action.CONSENT_MANAGE: {"loan": (Role.DEPARTMENT,)},
    Action.CONSENT_TEACHER: {"loan": (Role.TEACHER,)},
    # The free texts of the surveys (cartable/surveys) answered within a département reach
    # reports once its coordinator has approved them.
    Action.SURVEY_REVIEW: {"department": (Role.DEPARTMENT,)},
    # The loan's folder « Travail » (cartable/schoolwork): its members only. The family sees
    # it through the pupil's tablet (a device action, below), never with their account.
    Action.WORK_VIEW: {"loan": (Role.TEACHER, Role.APADHE_TEACHER, Role.DEPARTMENT)},
    Action.WORK_HAND_OUT: {"loan": (Role.TEACHER, Role.APADHE_TEACHER)},
    Action.WORK_CORRECT: {"loan": (Role.TEACHER, Role.APADHE_TEACHER)},
}
# What a device may do on a loan, by its kind: a kit's class station on the kit's loans, a
# paired tablet on its own loan. A device is never a person: it has nothing else.
DEVICE_ACTIONS: dict[str, frozenset[Action]] = {
    "class_station": frozenset(
        {Action.LIVE_CLASS_STATION, Action.WORK_VIEW, Action.WORK_HAND_OUT, Action.WORK_CORRECT}
    ),
    "pupil_tablet": frozenset({Action.LIVE_PUPIL, Action.WORK_VIEW, Action.WORK_RETURN}),
}
# Actions on no object in particular: which roles give them (holding one anywhere is enough).
GLOBAL_RULES: dict[Action, tuple[str, ...]] = {
    Action.FIGURES_VIEW: (Role.NATIONAL,),
    Action.INVITE: (Role.ADMIN, Role.ACADEMY, Role.DEPARTMENT),
    Action.SCHOOLS_IMPORT: (Role.ADMIN,),
    Action.CLASS_MANAGE: (Role.DEPARTMENT,),
    Action.PUPIL_MANAGE: (Role.DEPARTMENT,),
    Action.KIT_TRACK: (Role.FLEET, Role.NATIONAL),
    Action.FLEET_MANAGE: (Role.FLEET,),
    Action.LOAN_REQUEST: (Role.DEPARTMENT,),
    Action.AUDIT_VIEW: (Role.DPO,),
    Action.RIGHTS_MANAGE: (Role.DPO,),
}
# Who may invite whom. The invitation's scope must lie within the inviter's own scope.
INVITABLE: dict[str, tuple[str, ...]] = {
    Role.DEPARTMENT: (Role.TEACHER, Role.SCHOOL_HEAD, Role.HOSPITAL_STAFF, Role.APADHE_TEACHER),
    Role.ACADEMY: (
        Role.TEACHER,
        Role.SCHOOL_HEAD,
        Role.HOSPITAL_STAFF,
        Role.APADHE_TEACHER,
        Role.DEPARTMENT,
    ),
    Role.ADMIN: tuple(Role),
}


def _loan_model():
    from cartable.fleet.models import Loan

    return Loan


def level_model(level: str):
    return {
        "academy": Academy,
        "department": Department,
        "school": School,
        "school_class": SchoolClass,
        "pupil": Pupil,
        "loan": _loan_model(),
    }[level]


def model_level(model) -> str:
    return {
        Academy: "academy",
        Department: "department",
        School: "school",
        SchoolClass: "school_class",
        Pupil: "pupil",
    }.get(model) or ("loan" if model is _loan_model() else "")


# From an object of a level, the path to the id of each level that holds it.
_UP: dict[str, dict[str, str]] = {
    "academy": {"academy": "pk"},
    "department": {"academy": "academy_id", "department": "pk"},
    "school": {"academy": "department__academy_id", "department": "department_id", "school": "pk"},
    "school_class": {
        "academy": "school__department__academy_id",
        "department": "school__department_id",
        "school": "school_id",
        "school_class": "pk",
    },
    "pupil": {
        "academy": "school_class__school__department__academy_id",
        "department": "school_class__school__department_id",
        "school": "school_class__school_id",
        "school_class": "school_class_id",
        "pupil": "pk",
    },
    "loan": {
        "academy": "school_class__school__department__academy_id",
        "department": "school_class__school__department_id",
        "school": "school_class__school_id",
        "school_class": "school_class_id",
        "pupil": "pupil_id",
        "loan": "pk",
    },
}
_RANK = {"academy": 0, "department": 1, "school": 2, "school_class": 3, "pupil": 4, "loan": 5}


def within(level: str, scope_level: str, ids) -> Q:
    """Objects of ``level`` that belong to one of the scopes ``ids`` of ``scope_level``.

    A scope below the object (a teacher's class, for a school) gives the objects that
    hold it: the teacher sees the name of their class's school, not its other classes.
    """
    path = _UP[level].get(scope_level)
    if path is not None:
        return Q(**{f"{path}__in": ids})
    inner = level_model(scope_level).objects.filter(pk__in=ids).values(_UP[scope_level][level])
    return Q(pk__in=inner)


def grants_of(user) -> dict[str, set[int]]:
    """role -> the ids of its scopes (an empty set for a role without a scope)."""
    from .models import RoleGrant

    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    grants: dict[str, set[int]] = {}
    rows = RoleGrant.objects.filter(user=user).values_list(
        "role", "academy_id", "department_id", "school_id", "school_class_id", "loan_id"
    )
    for role, *scope_ids in rows:
        ids = grants.setdefault(role, set())
        scope_id = next((i for i in scope_ids if i is not None), None)
        if scope_id is not None:
            ids.add(scope_id)
    return grants


def roles_of(user) -> set[str]:
    return set(grants_of(user))


def teaches(user, school_class_id: int) -> bool:
    return school_class_id in grants_of(user).get(Role.TEACHER, set())


def _person_scope(actor: Actor, action: Action, level: str) -> Q | None:
    """The filter on objects of ``level`` that the actor's roles give for ``action``;
    None when they give none."""
    roles = RULES.get(action, {}).get(level, ())
    if not roles or not actor.is_person:
        return None
    grants = actor.grants
    parts = []
    for role in roles:
        if role not in grants:
            continue
        scope_level = ROLE_SCOPE[role]
        if scope_level is None:
            return Q()
        parts.append(within(level, scope_level, grants[role]))
    return reduce(or_, parts) if parts else None


def _live_device(actor: Actor):
    device = actor.device
    if device is not None and device.is_revoked:
        return None
    return device


def _scope(actor: Actor, action: Action, level: str) -> Q | None:
    scope = _person_scope(actor, action, level)
    device = _live_device(actor)
    if level == "loan" and device is not None:
        # A kit's class station runs the class side of the kit's loans; a paired tablet is
        # the pupil side of its own loan. A device is never a person: it has nothing else.
        device_scope = None
        allowed = DEVICE_ACTIONS.get(device.kind, frozenset())
        if action in allowed and device.kind == "class_station":
            device_scope = Q(kit_id=device.kit_id)
        elif action in allowed and device.kind == "pupil_tablet":
            device_scope = Q(pk=device.loan_id)
        if device_scope is not None:
            scope = device_scope if scope is None else scope | device_scope
    return scope


def _scoped(model, actor: Actor, action: Action):
    scope = _scope(actor, action, model_level(model))
    if scope is None:
        return model.objects.none()
    return model.objects.filter(scope)


def can(actor: Actor, action: Action, obj=None) -> bool:
    """Whether ``actor`` may do ``action`` to ``obj`` (a loan, pupil, class, school,
    département or académie; None for actions on nothing in particular). Pure reads."""
    if obj is None:
        return bool(actor.is_person and set(actor.grants) & set(GLOBAL_RULES.get(action, ())))
    kind = type(obj).__name__
    if kind == "Kit":
        if obj.pk is None:
            return False
        if action is Action.FLEET_MANAGE:
            return can(actor, Action.FLEET_MANAGE)
        return action is Action.KIT_TRACK and kits_for(actor).filter(pk=obj.pk).exists()
    if kind == "Device":
        # A kit device reports for itself only, with its own credential; people never do.
        device = _live_device(actor)
        return (
            action is Action.DEVICE_REPORT
            and device is not None
            and device.kind == "kit_device"
            and obj.pk is not None
            and device.device_id == obj.pk
        )
    level = model_level(type(obj))
    if not level or obj.pk is None:
        return False
    device = _live_device(actor)
    # Decided without a query: the signalling consumer asks this for every connection.
    if (
        level == "loan"
        and device is not None
        and action in DEVICE_ACTIONS.get(device.kind, frozenset())
        and (
            (device.kind == "pupil_tablet" and device.loan_id == obj.pk)
            or (device.kind == "class_station" and device.kit_id == obj.kit_id)
        )
    ):
        return True
    scope = _person_scope(actor, action, level)
    if scope is None:
        return False
    return type(obj).objects.filter(scope, pk=obj.pk).exists()


def loans_for(actor: Actor, action: Action):
    """The loans on which ``actor`` may do ``action`` (a scoped queryset)."""
    return _scoped(_loan_model(), actor, action)


def kits_for(actor: Actor):
    """The kits ``actor`` may follow: every kit for the fleet team and the national level;
    for an académie or a département, the kits held by a loan within it (a DANE of Nice
    sees no kit of Versailles)."""
    from cartable.fleet.models import Kit, Loan

    if can(actor, Action.KIT_TRACK):
        return Kit.objects.all()
    loans = loans_for(actor, Action.KIT_TRACK).filter(status__in=Loan.HOLDING_KIT)
    return Kit.objects.filter(pk__in=loans.values("kit_id"))


def pupils_for(actor: Actor, action: Action = Action.VIEW):
    return _scoped(Pupil, actor, action)


def classes_for(actor: Actor, action: Action = Action.VIEW):
    return _scoped(SchoolClass, actor, action)


def schools_for(actor: Actor, action: Action = Action.VIEW):
    return _scoped(School, actor, action)


def departments_for(actor: Actor, action: Action = Action.FIGURES_VIEW):
    return _scoped(Department, actor, action)


def academies_for(actor: Actor, action: Action = Action.FIGURES_VIEW):
    return _scoped(Academy, actor, action)


# Invitations ------------------------------------------------------------------------------


def invitable_roles(actor: Actor) -> list[str]:
    """The roles ``actor`` may invite people to, in the order of ``Role``."""
    held = set(actor.grants) if actor.is_person else set()
    wanted = {role for inviter in held for role in INVITABLE.get(inviter, ())}
    return [role for role in Role if role in wanted]


def grantable_scopes(actor: Actor, role: str):
    """The scopes over which ``actor`` may give ``role`` (a role with a scope): objects of
    the role's kind of scope inside the actor's own scope for that role."""
    scope_level = ROLE_SCOPE[role]
    model = level_model(scope_level)
    if not actor.is_person:
        return model.objects.none()
    grants = actor.grants
    inviters = [r for r in grants if role in INVITABLE.get(r, ())]
    parts = []
    for inviter_role in inviters:
        inviter_level = ROLE_SCOPE[inviter_role]
        if inviter_level is None:
            return model.objects.all()
        if _RANK[scope_level] >= _RANK[inviter_level]:  # never wider than one's own scope
            parts.append(within(scope_level, inviter_level, grants[inviter_role]))
    return model.objects.filter(reduce(or_, parts)) if parts else model.objects.none()


def may_grant(actor: Actor, role: str, scope) -> bool:
    """Whether ``actor`` may give ``role`` over ``scope`` (an object of the role's kind of
    scope, or None for a role without one): only roles they may invite to, and only inside
    their own scope."""
    if role not in invitable_roles(actor):
        return False
    if ROLE_SCOPE[role] is None:
        return scope is None
    if scope is None or scope.pk is None or model_level(type(scope)) != ROLE_SCOPE[role]:
        return False
    return grantable_scopes(actor, role).filter(pk=scope.pk).exists()
