"""A work file's row and its stored file go together: when the row is deleted (the work,
the loan or the pupil erased, the retention purge), the file is deleted once the
transaction commits (a rollback keeps both)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import WorkFile


@receiver(post_delete, sender=WorkFile)
def delete_stored_file(sender, instance: WorkFile, **kwargs):
    name = instance.file.name
    storage = instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
