"""Invitations, end to end: a coordinator invites, the email carries a one-time link, the
invitee sets a password and holds exactly the role and scope chosen.

Refused: a role or scope outside the inviter's own, an expired link, a link used twice.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.organisation import services
from cartable.organisation.models import Department, Invitation, Role, RoleGrant, School

from ..conftest import force_login, make_person

NEW_PASSWORD = "une-phrase-de-passe-solide"  # noqa: S105 (test-only password)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user) -> Client:
    client = Client()
    force_login(client, user)
    return client


@pytest.fixture
def elsewhere(make_loan, department):
    other = make_loan()
    School.objects.filter(pk=other.school_class.school_id).update(
        department=Department.objects.get(code="91")
    )
    return Loan.objects.get(pk=other.pk)


def invite(client, **data):
    return client.post("/organisation/invitations/nouvelle/", data)


def link_in(mail) -> str:
    match = re.search(r"http://testserver(/invitation/[^/\s]+/)", mail.body)
    assert match, mail.body
    return match[1]


def test_a_coordinator_invites_a_teacher_who_creates_their_account(loan, coordinator, mailoutbox):
    response = invite(
        signed_in(coordinator),
        email="Nouvelle.Prof@Example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["nouvelle.prof@example.org"]
    assert "Enseignant" in mail.body
    assert loan.pupil.display_name not in mail.body  # an email names no pupil
    path = link_in(mail)

    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Enseignant" in page.text
    response = visitor.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"

    user = get_user_model().objects.get(email="nouvelle.prof@example.org")
    assert user.username == "nouvelle.prof@example.org"
    assert user.check_password(NEW_PASSWORD)
    grants = list(RoleGrant.objects.filter(user=user).values_list("role", "school_class_id"))
    assert grants == [(Role.TEACHER, loan.school_class_id)]
    # Signed in, the new teacher sees their class.
    home = visitor.get("/")
    assert f"/station/{loan.pk}/" in home.text


def test_the_token_is_stored_only_as_a_hash(loan, coordinator, mailoutbox):
    invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    token = link_in(mailoutbox[0]).split("/")[2]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert len(invitation.token_hash) == 64
    assert invitation.expires_at - timezone.now() > timedelta(days=6)


def test_a_link_serves_once(loan, coordinator, mailoutbox):
    invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    path = link_in(mailoutbox[0])
    Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(path)
    assert again.status_code == 410
    assert "déjà servi" in again.text
    reused = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert reused.status_code == 410
    assert get_user_model().objects.filter(email="a@example.org").count() == 1


def test_an_expired_link_is_refused(loan, coordinator, mailoutbox):
    invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    path = link_in(mailoutbox[0])
    for response in (
        Client().get(path),
        Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}),
    ):
        assert response.status_code == 410
        assert "a expiré" in response.text
    assert not get_user_model().objects.filter(email="a@example.org").exists()


def test_an_unknown_link_is_refused_in_french(db):
    response = Client().get("/invitation/pas-un-vrai-jeton/")
    assert response.status_code == 404
    assert "n'est pas valide" in html.unescape(response.text)


def test_a_weak_password_is_refused_by_the_validators(loan, coordinator, mailoutbox):
    invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    path = link_in(mailoutbox[0])
    response = Client().post(path, {"new_password1": "azerty", "new_password2": "azerty"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert not get_user_model().objects.filter(email="a@example.org").exists()
    mismatch = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": "autre"})
    assert mismatch.status_code == 400
    assert Invitation.objects.get().accepted_at is None


def test_an_existing_account_signed_in_with_the_address_gets_the_role_added(
    loan, coordinator, teacher, mailoutbox
):
    teacher.email = "prof@example.org"
    teacher.save(update_fields=["email"])
    invite(
        signed_in(coordinator),
        email="PROF@example.org",
        role=Role.SCHOOL_HEAD,
        school=loan.school_class.school.uai,
    )
    path = link_in(mailoutbox[0])
    client = signed_in(teacher)
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    roles = set(RoleGrant.objects.filter(user=teacher).values_list("role", flat=True))
    assert roles == {Role.TEACHER, Role.SCHOOL_HEAD}
    assert get_user_model().objects.filter(email__iexact="prof@example.org").count() == 1


def test_an_existing_account_not_signed_in_is_asked_to_sign_in(loan, coordinator, mailoutbox):
    make_person("deja")  # deja@example.org
    invite(
        signed_in(coordinator),
        email="deja@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    path = link_in(mailoutbox[0])
    page = Client().get(path)
    assert page.status_code == 200
    assert "Un compte existe déjà" in page.text
    assert "new_password1" not in page.text
    refused = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert refused.status_code == 200
    assert Invitation.objects.get().accepted_at is None


def test_someone_signed_in_with_another_address_cannot_take_the_invitation(
    loan, coordinator, outsider, mailoutbox
):
    invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=loan.school_class.pk,
    )
    path = link_in(mailoutbox[0])
    client = signed_in(outsider)
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
    assert not RoleGrant.objects.filter(user=outsider).exists()
    assert Invitation.objects.get().accepted_at is None


# Out of scope ---------------------------------------------------------------------------------


def test_a_class_of_another_departement_is_refused(coordinator, elsewhere, mailoutbox):
    response = invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.TEACHER,
        school_class=elsewhere.school_class.pk,
    )
    assert response.status_code == 400
    assert "hors de votre périmètre" in response.text
    assert mailoutbox == []
    assert not Invitation.objects.exists()


def test_a_school_of_another_departement_is_refused(coordinator, elsewhere, mailoutbox):
    response = invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.SCHOOL_HEAD,
        school=elsewhere.school_class.school.uai,
    )
    assert response.status_code == 400
    assert "hors de votre périmètre" in response.text
    assert not Invitation.objects.exists()


def test_a_role_the_coordinator_does_not_give_is_refused(coordinator, department, mailoutbox):
    response = invite(
        signed_in(coordinator),
        email="a@example.org",
        role=Role.DEPARTMENT,
        department=department.pk,
    )
    assert response.status_code == 400
    assert "hors de votre périmètre" in response.text
    assert not Invitation.objects.exists()


def test_the_scope_of_the_chosen_role_is_required(coordinator, mailoutbox):
    response = invite(signed_in(coordinator), email="a@example.org", role=Role.TEACHER)
    assert response.status_code == 400
    assert "Choisissez la classe de l'enseignant" in html.unescape(response.text)


def test_the_service_itself_refuses_a_scope_outside_the_inviter(coordinator, elsewhere):
    with pytest.raises(services.InvitationRefused, match="hors de votre périmètre"):
        services.invitation_create(
            by=coordinator,
            email="a@example.org",
            role=Role.TEACHER,
            scope=elsewhere.school_class,
            accept_url=lambda token: token,
        )
    assert not Invitation.objects.exists()


def test_a_dane_invites_in_their_academie_only(dane, loan, elsewhere, mailoutbox):
    client = signed_in(dane)
    ok = invite(client, email="a@example.org", role=Role.TEACHER, school_class=loan.school_class.pk)
    assert ok.status_code == 302
    coordinator = invite(
        client,
        email="b@example.org",
        role=Role.DEPARTMENT,
        department=Department.objects.get(code="92").pk,
    )
    assert coordinator.status_code == 302
    paris = invite(
        client,
        email="c@example.org",
        role=Role.DEPARTMENT,
        department=Department.objects.get(code="75").pk,
    )
    assert paris.status_code == 400
    assert len(mailoutbox) == 2


def test_hospital_staff_are_invited_for_one_loan(loan, coordinator, mailoutbox):
    invite(signed_in(coordinator), email="h@example.org", role=Role.HOSPITAL_STAFF, loan=loan.pk)
    path = link_in(mailoutbox[0])
    Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    grant = RoleGrant.objects.get(user__email="h@example.org")
    assert (grant.role, grant.loan_id) == (Role.HOSPITAL_STAFF, loan.pk)


@pytest.mark.parametrize("who", ["teacher", "school_head", "ministry", "fleet", "outsider"])
def test_people_who_invite_nobody_do_not_find_the_page(request, loan, department, who):
    client = signed_in(request.getfixturevalue(who))
    assert client.get("/organisation/invitations/nouvelle/").status_code == 404
    response = invite(client, email="a@example.org", role=Role.TEACHER, school_class=1)
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get("/organisation/invitations/nouvelle/")
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")
