"""The authorisations a loan needs before its first live lesson.

For each loan the département's coordinator records four things (the teacher may record
their own agreement): the guardians' authorisation, the pupil's own agreement, the
teacher's agreement and how the class's families were informed; and whether some
classmates must stay out of the class camera's frame (a yes or no and a number, never a
name). ``services.missing_records`` says which of the four are still missing; no live
session starts while one is (``cartable.live.services.session_start``).

**History is kept: rows are never changed nor deleted by the application.** Recording
again (a correction, a new signature) adds a row; the current record of each kind is the
latest one of the loan (``latest``). Every row is dated (its own date: signed, agreed,
informed) and attributed (``recorded_by``, ``recorded_at``).

**Minimal data.** No name of a guardian, of a classmate or of the teacher is typed in: a
guardian is a role (« mère »…), the pupil's agreement is the version of the wording they
were shown (the words live in ``wordings.py``), never anything the child said or wrote.

**Retention (for the retention registry).** Every model here: purpose « prouver que les
séances en direct d'un prêt étaient autorisées » ; kept while the loan runs and then
``RETENTION_AFTER_LOAN_END`` (one year) after the loan's end (``Loan.ended_at``, or
``Loan.ends_on`` if it was not ended early), then deleted with no pseudonymised remainder
(nothing of it is needed for the evaluation). Deleted with the loan (cascade).
``recorded_by`` / ``teacher`` become empty if the account is deleted.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from cartable.fleet.models import Loan

# How long after the loan's end the records are kept (see the module's docstring).
RETENTION_AFTER_LOAN_END = timedelta(days=365)


class Record(models.Model):
    """What every record has: its loan and who recorded it, when. Append only."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="+")
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="enregistré par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True
        ordering = ["-recorded_at", "-pk"]

    @classmethod
    def latest(cls, loan):
        """The loan's current record of this kind (the latest one), or None."""
        return cls.objects.filter(loan=loan).order_by("-recorded_at", "-pk").first()


class GuardianAuthorisation(Record):
    """The guardians' authorisation for the live lessons of a loan.

    Personal data: a date, a role (never a name) and a way of signing, about a named
    pupil's loan. Retention: ``RETENTION_AFTER_LOAN_END`` after the loan's end.
    """

    class SignedAs(models.TextChoices):
        MOTHER = "mother", "Mère"
        FATHER = "father", "Père"
        GUARDIAN = "guardian", "Tuteur ou tutrice légale"
        OTHER = "other", "Autre représentant légal"

    class Method(models.TextChoices):
        PAPER = "paper", "Sur papier"
        ELECTRONIC = "electronic", "Signature électronique"
        EMAIL = "email", "Par courriel"

    signed_on = models.DateField("signée le")
    signed_as = models.CharField("signée par", max_length=10, choices=SignedAs.choices)
    method = models.CharField("forme", max_length=12, choices=Method.choices)

    class Meta(Record.Meta):
        verbose_name = "autorisation des représentants légaux"

    def __str__(self) -> str:
        return f"{self.loan_id}: autorisation du {self.signed_on}"


class PupilAgreement(Record):
    """The pupil's own agreement, asked in words suited to their age.

    Only the version of the wording shown is stored (``wording``, see ``wordings.py``),
    never what the child said, wrote or drew. Retention: ``RETENTION_AFTER_LOAN_END``
    after the loan's end.
    """

    class Method(models.TextChoices):
        ORAL = "oral", "À l'oral"
        WRITTEN = "written", "Par écrit"
        PICTURES = "pictures", "Avec des images ou pictogrammes"

    agreed_on = models.DateField("donné le")
    method = models.CharField("recueilli", max_length=10, choices=Method.choices)
    wording = models.CharField("texte présenté (version)", max_length=20)

    class Meta(Record.Meta):
        verbose_name = "accord de l'élève"

    def __str__(self) -> str:
        return f"{self.loan_id}: accord de l'élève du {self.agreed_on}"


class TeacherAgreement(Record):
    """The agreement of the class's teacher to teach with the kit (their class filmed).

    ``teacher`` is the teacher who agreed when they have an account (None when the
    coordinator records it for a teacher without one); ``recorded_by`` is who typed it (the
    teacher themself, or the coordinator on their behalf). Retention:
    ``RETENTION_AFTER_LOAN_END`` after the loan's end.
    """

    agreed_on = models.DateField("donné le")
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="enseignant·e",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(Record.Meta):
        verbose_name = "accord de l'enseignant·e"

    def __str__(self) -> str:
        return f"{self.loan_id}: accord de l'enseignant·e du {self.agreed_on}"

    @property
    def on_behalf(self) -> bool:
        return self.recorded_by_id is None or self.recorded_by_id != self.teacher_id


class FamiliesInformed(Record):
    """When and how the families of the class were told about the lessons with the kit.

    Not personal about the classmates (no family is named). Retention:
    ``RETENTION_AFTER_LOAN_END`` after the loan's end.
    """

    class Channel(models.TextChoices):
        LETTER = "letter", "Courrier"
        LIAISON_BOOK = "liaison_book", "Cahier de liaison"
        ENT = "ent", "ENT (espace numérique de travail)"
        MEETING = "meeting", "Réunion"

    informed_on = models.DateField("informées le")
    channel = models.CharField("par", max_length=12, choices=Channel.choices)

    class Meta(Record.Meta):
        verbose_name = "information des familles de la classe"

    def __str__(self) -> str:
        return f"{self.loan_id}: familles informées le {self.informed_on}"


class FrameExclusion(Record):
    """Whether some classmates must stay out of the class camera's frame.

    A yes or no and, optionally, how many: **never who**. The class station reminds the
    teacher to frame the camera accordingly. Not one of the records a session needs (no
    record means no classmate to keep out). Retention: ``RETENTION_AFTER_LOAN_END`` after
    the loan's end.
    """

    required = models.BooleanField("des élèves ne doivent pas apparaître à l'image")
    count = models.PositiveSmallIntegerField("combien", null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = "élèves hors du champ de la caméra"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(required=True) | models.Q(count__isnull=True),
                name="frame_exclusion_count_only_if_required",
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: hors champ {'oui' if self.required else 'non'}"


# The four records a live session needs, in the order they are shown.
REQUIRED = (GuardianAuthorisation, PupilAgreement, TeacherAgreement, FamiliesInformed)
