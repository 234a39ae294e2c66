from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "cartable.organisation"
    label = "organisation"
    verbose_name = "Organisation"
