"""The forms people fill in to sign in, get a new password, and give their code."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from cartable.core.forms import Accessible

from .services import email_normalise


class SignInForm(Accessible, AuthenticationForm):
    """Email address and password. The field keeps Django's name, ``username``."""

    username = forms.CharField(
        label="Adresse électronique (identifiant)",
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        # One message for both cases: it must not tell which addresses have an account.
        "invalid_login": (
            "Adresse électronique ou mot de passe incorrect. Vérifiez votre saisie et réessayez."
        ),
        "inactive": "Ce compte est désactivé.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # AuthenticationForm sizes the field for usernames; an address may be longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = "254"
        self.describe_fields()

    def clean_username(self):
        return email_normalise(self.cleaned_data.get("username"))


class ResetRequestForm(Accessible, PasswordResetForm):
    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        error_messages={
            "required": "Saisissez votre adresse électronique.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        },
    )


class NewPasswordForm(Accessible, SetPasswordForm):
    """Django's form with its validators (12 characters at least, not too common…)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password2"].label = "Confirmez le nouveau mot de passe"
        self.fields["new_password1"].help_text = (
            "Au moins 12 caractères ; ni trop courant, ni uniquement des chiffres, ni "
            "proche de votre nom ou de votre adresse. Une phrase de quelques mots convient."
        )
        self.describe_fields()


class CodeForm(Accessible, forms.Form):
    code = forms.CharField(
        label="Code à 6 chiffres",
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
            }
        ),
        error_messages={"required": "Saisissez le code à 6 chiffres."},
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Le code est fait de 6 chiffres, par exemple 123456.")
        return code
