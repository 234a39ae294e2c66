"""Retention (loan end + SCHOOLWORK_RETENTION_DAYS, by `cartable purge`), the pupil's data
export, erasure with the pupil: rows and stored files together."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.privacy.register import declarations
from cartable.privacy.services import pupil_erase, pupil_export
from cartable.schoolwork.models import Work, WorkFile
from cartable.schoolwork.services import work_create, work_return

from .conftest import make_jpeg, make_pdf, stored_files


def _ended(make_loan, days_ago: int) -> Loan:
    loan = make_loan(ended=True, starts_in_days=-120, ends_in_days=-days_ago)
    Loan.objects.filter(pk=loan.pk).update(
        ended_at=timezone.now() - timedelta(days=days_ago), status=Loan.Status.RETURNED
    )
    loan.refresh_from_db()
    return loan


def test_the_purge_deletes_work_past_its_period_with_its_files(
    make_loan, work_storage, django_capture_on_commit_callbacks
):
    old = _ended(make_loan, 31)  # retention: 30 days after the loan's end
    recent = _ended(make_loan, 3)
    running = make_loan()
    for loan in (old, recent, running):
        work_create(loan=loan, kind="handed_out", title="Fiche", data=make_pdf(2))
    assert len(stored_files(work_storage)) == 6  # each PDF and its first page
    with django_capture_on_commit_callbacks(execute=True):
        out = StringIO()
        call_command("purge", stdout=out)
    assert "Travail de l'élève" in out.getvalue()
    assert set(Work.objects.values_list("loan_id", flat=True)) == {recent.pk, running.pk}
    assert WorkFile.objects.count() == 6
    assert len(stored_files(work_storage)) == 4
    # A second run finds nothing left to do.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge", stdout=StringIO())
    assert Work.objects.count() == 2


def test_the_register_declares_the_work_and_its_retention():
    declaration = next(d for d in declarations() if d.key == "schoolwork")
    assert "30 jours après la fin du prêt" in declaration.retention
    assert declaration.purge is not None


def test_the_export_holds_the_pupils_work(loan, work_storage):
    work = work_create(loan=loan, kind="set", title="Pour jeudi", data=make_pdf(2))
    stroke = {"page": 2, "colour": "#1d4ed8", "width": 4, "points": [[0.1, 0.1], [0.2, 0.3]]}
    import json

    work_return(work=work, strokes=json.dumps([stroke]), answer="Ma réponse", photos=[make_jpeg()])
    exported = pupil_export(loan.pupil)["mises à disposition"][0]["travail"]
    assert exported[0]["titre"] == "Pour jeudi"
    assert exported[0]["état"] == "Rendu"
    assert exported[0]["réponse de l'élève"] == "Ma réponse"
    assert exported[0]["traits de l'élève"][0]["page"] == 2
    kinds = [row["fichier"] for row in exported[0]["fichiers"]]
    assert kinds.count("Page") == 2 and "Photo du travail rendu" in kinds
    assert "Exercice page 1" in " ".join(row["texte"] for row in exported[0]["fichiers"])


def test_the_work_is_erased_with_the_pupil(
    make_loan, dpo, work_storage, django_capture_on_commit_callbacks
):
    loan = _ended(make_loan, 1)
    work_create(loan=loan, kind="handed_out", title="Fiche", data=make_pdf(2))
    other = make_loan()
    work_create(loan=other, kind="handed_out", title="Autre", data=make_jpeg())
    with django_capture_on_commit_callbacks(execute=True):
        pupil_erase(pupil=loan.pupil, by=dpo)
    assert list(Work.objects.values_list("loan_id", flat=True)) == [other.pk]
    assert len(stored_files(work_storage)) == 1
