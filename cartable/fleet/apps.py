from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "cartable.fleet"
    label = "fleet"
    verbose_name = "Parc"
