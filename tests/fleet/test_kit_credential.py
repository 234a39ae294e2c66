from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cartable.fleet.models import DeviceCredential
from cartable.fleet.services import credential_authenticate


def run(*args) -> str:
    out = StringIO()
    call_command("kit_credential", *args, stdout=out)
    return out.getvalue()


def test_it_issues_a_working_token_then_revokes_it(loan):
    token = run(loan.kit.code).strip().splitlines()[-1]
    credential = credential_authenticate(token)
    assert credential.kind == DeviceCredential.Kind.CLASS_STATION
    assert credential.kit == loan.kit
    run(loan.kit.code, "--revoke", str(credential.pk))
    assert credential_authenticate(token) is None


def test_it_refuses_an_unknown_kit_or_credential(loan):
    with pytest.raises(CommandError, match="No kit"):
        run("NOPE")
    with pytest.raises(CommandError, match="no class-station credential"):
        run(loan.kit.code, "--revoke", "999")
