from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Platform-wide commands (serve, demo) that span the other apps, and the guards every
    app shares (bad input refused: ``core.errors``, ``core.middleware``)."""

    name = "cartable.core"
    label = "core"

    def ready(self):
        from django.db.models.signals import pre_save

        from .errors import refuse_nul_on_save

        # No text with a NUL is saved, on SQLite (which would store it) as on PostgreSQL
        # (which refuses it with an error of its own): the same refusal on both.
        pre_save.connect(refuse_nul_on_save, dispatch_uid="cartable.core.refuse_nul")
