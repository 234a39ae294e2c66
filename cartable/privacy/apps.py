from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "cartable.privacy"
    label = "privacy"
    verbose_name = "Protection des données"
