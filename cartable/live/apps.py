from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "cartable.live"
    label = "live"
    verbose_name = "Séances en direct"
