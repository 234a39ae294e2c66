from django.apps import AppConfig


class SchoolworkConfig(AppConfig):
    name = "cartable.schoolwork"
    label = "schoolwork"
    verbose_name = "Travail de l'élève"

    def ready(self):
        from . import signals  # noqa: F401 (files go with their rows)
