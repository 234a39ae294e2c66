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


class RoleGrant(models.Model):
    """A role held by a person over a scope. A person may hold several."""

    class Role(models.TextChoices):
        TEACHER = "teacher", "Enseignant"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    school_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rôle"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "school_class"], name="role_grant_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="teacher") | models.Q(school_class__isnull=False),
                name="teacher_has_class",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"
