"""A forgotten password, reset through a link sent by email."""

from __future__ import annotations

import re

from django.core import mail

from ..conftest import PASSWORD
from .conftest import EMAIL, sign_in, text

NEW_PASSWORD = "une phrase de passe toute neuve"


def reset_link(message) -> str:
    match = re.search(r"http://testserver(/connexion/nouveau-mot-de-passe/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_person_resets_their_password_through_the_emailed_link(client, person):
    form = client.get("/connexion/mot-de-passe-oublie/")
    assert '<label for="id_email">Adresse électronique</label>' in text(form)

    response = client.post(
        "/connexion/mot-de-passe-oublie/", {"email": "Camille.Martin@example.org"}
    )
    assert response.status_code == 302
    assert response.url == "/connexion/mot-de-passe-oublie/envoye/"
    assert "Regardez votre messagerie" in text(client.get(response.url))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert message.subject == "Cartable connecté : choisir un nouveau mot de passe"
    assert "Bonjour" in message.body

    # The link leads to the form (Django swaps the token out of the address first).
    page = client.get(reset_link(message), follow=True)
    assert page.status_code == 200
    confirm_url = page.redirect_chain[-1][0]
    assert "Choisir un nouveau mot de passe" in text(page)

    # The password rules apply, in French.
    weak = client.post(confirm_url, {"new_password1": "court", "new_password2": "court"})
    assert weak.status_code == 200
    page = text(weak)
    assert 'role="alert"' in page
    assert "trop court. Il doit contenir au minimum 12 caractères" in page
    assert 'aria-invalid="true"' in page

    done = client.post(confirm_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.url == "/connexion/nouveau-mot-de-passe/fait/"
    assert "Mot de passe changé" in text(client.get(done.url))

    # The old password no longer works; the new one does; the link served once.
    assert sign_in(client, EMAIL, PASSWORD).status_code == 200
    assert sign_in(client, EMAIL, NEW_PASSWORD).status_code == 302
    client.post("/deconnexion/")
    used = client.get(reset_link(message), follow=True)
    assert "Ce lien ne fonctionne plus" in text(used)


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, person):
    response = client.post("/connexion/mot-de-passe-oublie/", {"email": "qui@example.org"})
    assert response.url == "/connexion/mot-de-passe-oublie/envoye/"
    assert mail.outbox == []


def test_a_deactivated_account_gets_no_email(client, person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    client.post("/connexion/mot-de-passe-oublie/", {"email": EMAIL})
    assert mail.outbox == []


def test_a_malformed_address_is_explained_in_french(client, db):
    response = client.post("/connexion/mot-de-passe-oublie/", {"email": "pas une adresse"})
    assert response.status_code == 200
    page = text(response)
    assert 'role="alert"' in page
    assert "Saisissez une adresse électronique valide" in page
