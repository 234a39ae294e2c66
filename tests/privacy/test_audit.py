"""An audit entry for each audited action; the log cannot be edited through the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from cartable.privacy.models import AuditEntry, AuditLogImmutable

from ..conftest import force_login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def entries(**filters):
    return list(
        AuditEntry.objects.filter(**filters).values_list("action", "object_type", "object_id")
    )


def test_a_pupil_viewed_changed_and_created_by_a_coordinator_is_audited(loan, coordinator):
    client = force_login(Client(), coordinator)
    pupil = loan.pupil
    assert client.get(f"/organisation/eleves/{pupil.pk}/").status_code == 200
    assert entries(user_id=coordinator.pk) == [("view", "organisation.pupil", str(pupil.pk))]
    response = client.post(
        f"/organisation/eleves/{pupil.pk}/",
        {"display_name": "Léa", "school_class": loan.school_class_id},
    )
    assert response.status_code == 302
    assert ("update", "organisation.pupil", str(pupil.pk)) in entries(user_id=coordinator.pk)
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.role == "Coordonnateur APADHE (département)"
    assert "Léa" not in entry.detail
    client.post(
        "/organisation/eleves/nouveau/",
        {"display_name": "Noé", "school_class": loan.school_class_id},
    )
    assert AuditEntry.objects.filter(action="create", object_type="organisation.pupil").exists()


def test_a_refused_or_invalid_change_writes_nothing(loan, coordinator, other_coordinator):
    client = force_login(Client(), other_coordinator)
    assert client.get(f"/organisation/eleves/{loan.pupil_id}/").status_code == 404
    client = force_login(Client(), coordinator)
    client.post(f"/organisation/eleves/{loan.pupil_id}/", {"display_name": ""})
    assert not AuditEntry.objects.filter(action="update").exists()


def test_classes_invitations_loans_and_pairing_are_audited(loan, coordinator, teacher, mailoutbox):
    client = force_login(Client(), coordinator)
    klass = loan.school_class
    client.post(
        f"/organisation/classes/{klass.pk}/",
        {"school": klass.school_id, "name": "CM2 B", "level": "CM2", "school_year": "2026-2027"},
    )
    assert entries(action="update", object_type="organisation.schoolclass") == [
        ("update", "organisation.schoolclass", str(klass.pk))
    ]
    client.post(
        "/organisation/classes/nouvelle/",
        {"school": klass.school_id, "name": "CM2 C", "level": "CM2", "school_year": "2026-2027"},
    )
    assert entries(action="create", object_type="organisation.schoolclass")
    client.post(
        "/organisation/invitations/nouvelle/",
        {"email": "new@example.org", "role": "teacher", "school_class": klass.pk},
    )
    assert entries(action="create", object_type="organisation.invitation")
    assert client.get(f"/prets/{loan.pk}/").status_code == 200
    assert ("view", "fleet.loan", str(loan.pk)) in entries(user_id=coordinator.pk)
    later = (loan.ends_on + timedelta(days=7)).isoformat()
    assert (
        client.post(f"/prets/{loan.pk}/prolonger/", {"prolonger-ends_on": later}).status_code == 302
    )
    assert AuditEntry.objects.filter(action="update", detail="loan_extend").exists()
    teacher_client = force_login(Client(), teacher)
    teacher_client.post(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    assert AuditEntry.objects.filter(
        user_id=teacher.pk, action="create", detail="code d'appairage"
    ).exists()


def test_the_log_cannot_be_edited_through_the_application(db):
    from cartable.privacy import audit

    entry = audit.record(None, "view", "organisation.pupil", detail="x")
    entry.detail = "changé"
    with pytest.raises(AuditLogImmutable):
        entry.save()
    with pytest.raises(AuditLogImmutable):
        entry.delete()
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="changé")
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.all()._purge_older_than(entry.at)
    entry.refresh_from_db()
    assert entry.detail == "x"
    assert AuditEntry.objects.count() == 1
