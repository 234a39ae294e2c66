"""Survey invitations (who was asked, by a one-time link) and anonymous responses.

The two never meet: a ``SurveyInvitation`` knows the loan and the address it was sent to,
and only records *that* it was used (``answered_at``); a ``SurveyResponse`` knows none of
them: no invitation, no person, no loan, only what the reports need (who answered as a
kind of respondent, which round, the school year, the académie, the département, the level
group, the kind of place and the day). Their primary keys are random (UUID), so not even
the order of the rows links a response to the invitation marked used at the same moment.
"""

from __future__ import annotations

import uuid

from django.db import models

from cartable.organisation.models import Academy, Department, SchoolClass

from .questions import Question


class Respondent(models.TextChoices):
    TEACHER = "teacher", "Enseignant·e"
    FAMILY = "family", "Famille"
    PUPIL = "pupil", "Élève"
    HOSPITAL_STAFF = "hospital_staff", "Personnel hospitalier"


class Round(models.TextChoices):
    MIDWAY = "midway", "À mi-parcours"
    END = "end", "En fin de prêt"


class LevelGroup(models.TextChoices):
    MATERNELLE = "maternelle", "Maternelle"
    ELEMENTAIRE = "elementaire", "Élémentaire"
    COLLEGE = "college", "Collège"
    LYCEE_GT = "lycee_gt", "Lycée général et technologique"
    LYCEE_PRO = "lycee_pro", "Lycée professionnel"
    AGRICOLE = "agricole", "Enseignement agricole"


L = SchoolClass.Level
_LEVEL_GROUPS = {
    LevelGroup.MATERNELLE: (L.PS, L.MS, L.GS),
    LevelGroup.ELEMENTAIRE: (L.CP, L.CE1, L.CE2, L.CM1, L.CM2),
    LevelGroup.COLLEGE: (L.SIXIEME, L.CINQUIEME, L.QUATRIEME, L.TROISIEME),
    LevelGroup.LYCEE_GT: (L.SECONDE, L.PREMIERE, L.TERMINALE),
    LevelGroup.LYCEE_PRO: (L.CAP1, L.CAP2, L.SECONDE_PRO, L.PREMIERE_PRO, L.TERMINALE_PRO),
    LevelGroup.AGRICOLE: (L.SECONDE_AGRI, L.PREMIERE_AGRI, L.TERMINALE_AGRI),
}
LEVEL_GROUP_OF = {level: group for group, levels in _LEVEL_GROUPS.items() for level in levels}


def level_group(level: str) -> str:
    """The level group of a class level (the same groups as the indicators',
    ``cartable.evaluation.indicators.LEVEL_GROUPS``)."""
    return LEVEL_GROUP_OF.get(level, LevelGroup.ELEMENTAIRE)


class SurveyInvitation(models.Model):
    """A one-time link to a questionnaire, sent by email for one loan, round and kind of
    respondent. Only a hash of the token is stored: the email holds the only copy."""

    loan = models.ForeignKey(
        "fleet.Loan", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    round = models.CharField("tour", max_length=8, choices=Round.choices)
    respondent_kind = models.CharField("répondant", max_length=20, choices=Respondent.choices)
    email = models.EmailField("envoyée à")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("envoyée le")
    expires_at = models.DateTimeField("valable jusqu'au")
    answered_at = models.DateTimeField("utilisée le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation à un questionnaire"
        constraints = [
            # Once per person, loan and round; the pupil's link once per loan and round.
            models.UniqueConstraint(
                fields=["loan", "round", "respondent_kind", "email"],
                name="survey_invitation_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["loan", "round"],
                condition=models.Q(respondent_kind="pupil"),
                name="survey_invitation_once_per_pupil",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_respondent_kind_display()} — {self.get_round_display()}"


class SurveyResponse(models.Model):
    """One anonymous questionnaire, as answered. Nothing here designates a person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    respondent_kind = models.CharField("répondant", max_length=20, choices=Respondent.choices)
    round = models.CharField("tour", max_length=8, choices=Round.choices)
    school_year = models.CharField("année scolaire", max_length=9)
    academy = models.ForeignKey(
        Academy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level_group = models.CharField("niveau", max_length=12, choices=LevelGroup.choices)
    place_kind = models.CharField("lieu", max_length=20)  # fleet.Loan.PlaceKind
    submitted_on = models.DateField("répondu le", db_index=True)

    class Meta:
        verbose_name = "réponse à un questionnaire"

    def __str__(self) -> str:
        return f"{self.get_respondent_kind_display()} {self.submitted_on}"


class SurveyAnswer(models.Model):
    """The answer to one question: a value of its scale and, for adults, a free text that
    reaches reports only once a coordinator has approved it (a rejected text is erased)."""

    class Review(models.TextChoices):
        NONE = "", "Sans texte"
        PENDING = "pending", "À relire"
        APPROVED = "approved", "Retenu"
        REJECTED = "rejected", "Écarté"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField("question", max_length=20, choices=Question.choices)
    value = models.PositiveSmallIntegerField("réponse")
    text = models.TextField("texte libre", blank=True)
    review = models.CharField(
        "relecture", max_length=10, choices=Review.choices, blank=True, default=Review.NONE
    )

    class Meta:
        verbose_name = "réponse à une question"
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="survey_answer_once_per_question"
            ),
        ]
        indexes = [models.Index(fields=["review"])]

    def __str__(self) -> str:
        return f"{self.get_question_display()} : {self.value}"
