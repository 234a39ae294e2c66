from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cartable.accounts"
    label = "accounts"
    verbose_name = "Comptes et connexion"
