"""Schools, classes, pupils, and who holds which role over them.

A pupil is a display name in a class: nothing else about the child is needed, so nothing
else is stored (no surname, no birth date, never a reason for absence).
"""

from django.conf import settings
from django.db import models

from .validators import validate_uai


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
