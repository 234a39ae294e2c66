"""Académies, départements, schools, classes, pupils, and who holds which role over them.

A pupil is a display name in a class: nothing else about the child is needed, so nothing
else is stored (no surname, no birth date, never a reason for absence).

Académies and départements are reference data: they are loaded from a CSV file shipped
with the package (``data/academies.csv``, see ``services.academies_load``), never written
into the code, so a change of the administrative map is a data change.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .validators import validate_uai


class Academy(models.Model):
    class Zone(models.TextChoices):
        A = "A", "Zone A"
        B = "B", "Zone B"
        C = "C", "Zone C"
        CORSE = "Corse", "Corse"
        OVERSEAS = "outre-mer", "Outre-mer"

    # The ministry's two-character code ("01" Paris, "25" Versailles, "70" Normandie).
    code = models.CharField(
        "code",
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{2}$", "Le code d'académie a deux chiffres.")],
    )
    name = models.CharField("nom", max_length=80)
    zone = models.CharField("zone de vacances", max_length=10, choices=Zone.choices)

    class Meta:
        verbose_name = "académie"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    # The INSEE code as a string: "01", "78", "2A", "974" (never a number: "2A" and the
    # leading zero of "01" must survive). Codes 970-989 are allowed so that overseas
    # collectivities (975, 977, 978…) can be added through the académies file, as data.
    code = models.CharField(
        "code INSEE",
        max_length=3,
        unique=True,
        validators=[
            RegexValidator(
                r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|9[78][0-9])$",
                "Code de département INSEE attendu (01, 2A, 974…).",
            )
        ],
    )
    name = models.CharField("nom", max_length=80, blank=True)
    academy = models.ForeignKey(
        Academy, on_delete=models.PROTECT, related_name="departments", verbose_name="académie"
    )

    class Meta:
        verbose_name = "département"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class School(models.Model):
    class Kind(models.TextChoices):
        MATERNELLE = "maternelle", "École maternelle"
        ELEMENTAIRE = "elementaire", "École élémentaire"
        PRIMAIRE = "primaire", "École primaire"
        COLLEGE = "college", "Collège"
        LYCEE_GT = "lycee_gt", "Lycée général et technologique"
        LYCEE_PRO = "lycee_pro", "Lycée professionnel"
        LYCEE_AGRICOLE = "lycee_agricole", "Lycée agricole"
        EREA = "erea", "EREA"
        HOSPITAL_UNIT = "hospital_unit", "Unité d'enseignement à l'hôpital"
        OTHER = "other", "Autre"

    uai = models.CharField("code UAI", max_length=8, unique=True, validators=[validate_uai])
    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type", max_length=20, choices=Kind.choices, default=Kind.OTHER)
    commune = models.CharField("commune", max_length=120, blank=True)
    # Nullable because schools also come from outside the directory (the demo, tests, a
    # school entered by hand before its département is known); every school imported
    # from the directory has one.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools",
        verbose_name="département",
    )
    postcode = models.CharField(
        "code postal",
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{5}$", "Un code postal a cinq chiffres.")],
    )
    # From the directory's "etat": OUVERT and A FERMER are open; FERME and A OUVRIR are not.
    is_open = models.BooleanField("ouvert", default=True)
    updated_on = models.DateField("mis à jour dans l'annuaire le", null=True, blank=True)

    class Meta:
        verbose_name = "établissement"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uai})"


class SchoolClass(models.Model):
    class Level(models.TextChoices):
        PS = "PS", "Petite section"
        MS = "MS", "Moyenne section"
        GS = "GS", "Grande section"
        CP = "CP", "CP"
        CE1 = "CE1", "CE1"
        CE2 = "CE2", "CE2"
        CM1 = "CM1", "CM1"
        CM2 = "CM2", "CM2"
        SIXIEME = "6e", "Sixième"
        CINQUIEME = "5e", "Cinquième"
        QUATRIEME = "4e", "Quatrième"
        TROISIEME = "3e", "Troisième"
        SECONDE = "2nde", "Seconde"
        PREMIERE = "1re", "Première"
        TERMINALE = "Tle", "Terminale"
        CAP1 = "CAP1", "1re année de CAP"
        CAP2 = "CAP2", "2e année de CAP"
        SECONDE_PRO = "2nde_pro", "Seconde professionnelle"
        PREMIERE_PRO = "1re_pro", "Première professionnelle"
        TERMINALE_PRO = "Tle_pro", "Terminale professionnelle"
        SECONDE_AGRI = "2nde_agri", "Seconde (enseignement agricole)"
        PREMIERE_AGRI = "1re_agri", "Première (enseignement agricole)"
        TERMINALE_AGRI = "Tle_agri", "Terminale (enseignement agricole)"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField("nom", max_length=60)
    level = models.CharField("niveau", max_length=12, choices=Level.choices)
    school_year = models.CharField("année scolaire", max_length=9)  # "2026-2027"

    class Meta:
        verbose_name = "classe"
        ordering = ["school_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "name"], name="class_unique_name_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school_year})"


class Pupil(models.Model):
    display_name = models.CharField("prénom d'usage", max_length=60)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="pupils")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "élève"

    def __str__(self) -> str:
        return self.display_name


class Role(models.TextChoices):
    """What a person does, each over one kind of scope (see ``ROLE_SCOPE``)."""

    NATIONAL = "national", "Pilotage national (ministère)"
    ACADEMY = "academy", "Délégation académique au numérique (DANE)"
    DEPARTMENT = "department", "Coordonnateur APADHE (département)"
    SCHOOL_HEAD = "school_head", "Chef d'établissement"
    TEACHER = "teacher", "Enseignant"
    HOSPITAL_STAFF = "hospital_staff", "Personnel hospitalier"
    FAMILY = "family", "Famille"
    # The hospital or home teacher (APADHE) who helps the pupil during the loan.
    APADHE_TEACHER = "apadhe_teacher", "Enseignant APADHE (de l'élève)"
    FLEET = "fleet", "Équipe parc et assistance"
    DPO = "dpo", "Délégué à la protection des données"
    ADMIN = "admin", "Administrateur"


# The field naming the scope of each role; None: the role holds everywhere (no scope).
SCOPE_FIELDS = ("academy", "department", "school", "school_class", "loan")
ROLE_SCOPE: dict[str, str | None] = {
    Role.NATIONAL: None,
    Role.ACADEMY: "academy",
    Role.DEPARTMENT: "department",
    Role.SCHOOL_HEAD: "school",
    Role.TEACHER: "school_class",
    Role.HOSPITAL_STAFF: "loan",  # the loan of the pupil they look after
    Role.FAMILY: "loan",  # the loan of their child
    Role.APADHE_TEACHER: "loan",  # the loan of the pupil they teach at hospital or home
    Role.FLEET: None,
    Role.DPO: None,
    Role.ADMIN: None,
}


def scope_matches_role() -> models.Q:
    """Each role with exactly its scope: its own scope field set, every other one empty.

    An unknown role matches no branch, so the database refuses it too.
    """
    branches = [
        models.Q(role=role, **{f"{name}__isnull": name != scope for name in SCOPE_FIELDS})
        for role, scope in ROLE_SCOPE.items()
    ]
    condition = branches[0]
    for branch in branches[1:]:
        condition |= branch
    return condition


class ScopedRole(models.Model):
    """A role and its scope; shared by grants and by the invitations that lead to them."""

    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    academy = models.ForeignKey(
        Academy, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    school_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # A string reference: fleet's models import this module.
    loan = models.ForeignKey(
        "fleet.Loan", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def scope(self):
        field = ROLE_SCOPE.get(self.role)
        return getattr(self, field) if field else None

    def scope_label(self) -> str:
        """The scope in words, never with a pupil's name (an invitation shows it)."""
        scope = self.scope
        if scope is None:
            return "national"
        return scope_label(scope)


def scope_label(scope) -> str:
    from cartable.fleet.models import Loan

    if isinstance(scope, Academy):
        return f"académie de {scope.name}"
    if isinstance(scope, Department):
        return f"département {scope}"
    if isinstance(scope, School):
        return str(scope)
    if isinstance(scope, SchoolClass):
        return f"classe {scope.name} ({scope.school_year}), {scope.school.name}"
    if isinstance(scope, Loan):
        klass = scope.school_class
        kit = f"cartable {scope.kit.code}" if scope.kit_id else f"demande de cartable n° {scope.pk}"
        return f"{kit}, classe {klass.name}, {klass.school.name}"
    return str(scope)


class RoleGrant(ScopedRole):
    """A role held by a person over a scope. A person may hold several."""

    Role = Role

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    school_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rôle"
        constraints = [
            models.CheckConstraint(
                condition=scope_matches_role(), name="role_grant_scope_fits_role"
            ),
            # Once per person, role and scope. Partial indexes, since NULLs are distinct in
            # a plain unique index (and NULLS NOT DISTINCT is PostgreSQL 15 only).
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(role__in=[r for r, s in ROLE_SCOPE.items() if s is None]),
                name="role_grant_unique_unscoped",
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", "role", name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"role_grant_unique_{name}",
                )
                for name in SCOPE_FIELDS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class Invitation(ScopedRole):
    """A one-time link, sent by email, that gives one role over one scope.

    Only a hash of the token is stored: the link in the email is the only copy, so a
    leaked database does not hand out accounts.
    """

    email = models.EmailField("adresse électronique")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("valable jusqu'au")
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "invitation"
        constraints = [
            models.CheckConstraint(
                condition=scope_matches_role(), name="invitation_scope_fits_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} — {self.get_role_display()}"


class SchoolHoliday(models.Model):
    """A school holiday of one holiday zone, from the national school calendar
    (data.education.gouv.fr ``fr-en-calendrier-scolaire``, loaded by
    ``cartable import_calendar``). ``first_day`` is the first day without class and
    ``resumes_on`` the morning classes resume (the dataset's end date)."""

    zone = models.CharField("zone", max_length=10, choices=Academy.Zone.choices)
    description = models.CharField("période", max_length=120)
    school_year = models.CharField("année scolaire", max_length=9)
    first_day = models.DateField("premier jour de vacances")
    resumes_on = models.DateField("reprise des cours")

    class Meta:
        verbose_name = "vacances scolaires"
        ordering = ["zone", "first_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "description", "first_day"], name="one_holiday_per_zone"
            ),
            models.CheckConstraint(
                condition=models.Q(resumes_on__gt=models.F("first_day")),
                name="holiday_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.get_zone_display()})"
