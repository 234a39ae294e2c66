from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Platform-wide commands (serve, demo) that span the other apps."""

    name = "cartable.core"
    label = "core"
