"""A loan's folder « Travail »: documents handed out to the pupil and their work given back.

A ``Work`` is one document of one loan: handed out in a lesson, or set for later with a due
date; the pupil returns it (strokes drawn on its pages, a typed answer, photos of their
paper), the teacher corrects it (strokes of their own) and hands it back. Its files
(``WorkFile``: the checked original, one image per page, the pupil's photos) live in the
"schoolwork" storage under random names (never the uploaded file's name) and are served
only by ``views.work_file``, which checks the loan's members on every request.

Strokes are vector data kept as JSON beside the original: ``[{"page": 2, "colour":
"#1d4ed8", "width": 4, "points": [[x, y], ...]}]``, with x and y in 0..1 of the page.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models


def schoolwork_storage():
    return storages["schoolwork"]


def file_name(instance, filename: str) -> str:
    # Random, and only the extension kept: the uploaded name never reaches the storage.
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"loans/{instance.work.loan_id}/{uuid.uuid4().hex}.{extension}"


class Work(models.Model):
    class Kind(models.TextChoices):
        HANDED_OUT = "handed_out", "Distribué en classe"
        SET = "set", "À faire pour plus tard"

    class State(models.TextChoices):
        TODO = "todo", "À faire"
        RETURNED = "returned", "Rendu"
        CORRECTED = "corrected", "Corrigé"

    class Source(models.TextChoices):
        PDF = "pdf", "PDF"
        IMAGE = "image", "Image"
        PHOTO = "photo", "Photo"
        BOARD = "board", "Photo du tableau"
        OFFICE = "office", "Document converti"

    loan = models.ForeignKey("fleet.Loan", on_delete=models.CASCADE, related_name="works")
    kind = models.CharField("type", max_length=12, choices=Kind.choices)
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.TODO)
    title = models.CharField("titre", max_length=120)
    instructions = models.TextField("consigne", max_length=2000, blank=True)
    due_on = models.DateField("à faire pour le", null=True, blank=True)
    source = models.CharField("origine", max_length=8, choices=Source.choices)
    page_count = models.PositiveIntegerField("pages", default=1)
    created_at = models.DateTimeField("distribué le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    returned_at = models.DateTimeField("rendu le", null=True, blank=True)
    corrected_at = models.DateTimeField("corrigé le", null=True, blank=True)
    answer = models.TextField("réponse de l'élève", max_length=5000, blank=True)
    comment = models.TextField("remarque de l'enseignant", max_length=2000, blank=True)
    pupil_strokes = models.JSONField("traits de l'élève", default=list, blank=True)
    teacher_strokes = models.JSONField("traits de l'enseignant", default=list, blank=True)

    class Meta:
        verbose_name = "travail"
        verbose_name_plural = "travaux"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["loan", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"


class WorkFile(models.Model):
    class Role(models.TextChoices):
        ORIGINAL = "original", "Document d'origine"
        PAGE = "page", "Page"
        PHOTO = "photo", "Photo du travail rendu"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=10, choices=Role.choices)
    index = models.PositiveIntegerField(default=1)  # page or photo number, from 1
    file = models.FileField(storage=schoolwork_storage, upload_to=file_name, max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    text = models.TextField("texte de la page", blank=True)  # for screen readers

    class Meta:
        verbose_name = "fichier de travail"
        constraints = [
            models.UniqueConstraint(fields=["work", "role", "index"], name="one_work_file_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.work_id} {self.slug}"

    @property
    def slug(self) -> str:
        return self.role if self.role == self.Role.ORIGINAL else f"{self.role}-{self.index}"
