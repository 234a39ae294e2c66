from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "cartable.consent"
    label = "consent"
    verbose_name = "Autorisations"
