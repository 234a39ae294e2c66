"""The one door for real-time events sent by the server itself.

Events go to a loan's group after the database transaction commits, so a client never
hears of a session that a rollback then erased.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def loan_group(loan_id: int) -> str:
    return f"live.loan.{loan_id}"


# Server events and their fields (checked in tests; consumers handle each of them).
EVENT_FIELDS = {
    "session.started": {"session_id"},
    "session.ended": {"session_id", "reason"},
    "credential.revoked": {"credential_id"},
    # cartable/schoolwork: a document handed out, work returned or corrected.
    "work.changed": {"work_id", "change", "state"},
}


def send_event(loan_id: int, event_type: str, **fields) -> None:
    expected = EVENT_FIELDS[event_type]
    if set(fields) != expected:
        raise ValueError(f"{event_type} takes {sorted(expected)}, got {sorted(fields)}")
    message = {"type": event_type.replace(".", "_"), "event": event_type, **fields}

    def _send() -> None:
        async_to_sync(get_channel_layer().group_send)(loan_group(loan_id), message)

    transaction.on_commit(_send)
