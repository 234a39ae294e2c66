from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cartable.accounts"
    label = "accounts"
    verbose_name = "Comptes et connexion"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from .spraying import count_failure

        # Failures per address across accounts, against password spraying (spraying.py).
        user_login_failed.connect(count_failure, dispatch_uid="cartable.accounts.spraying")
