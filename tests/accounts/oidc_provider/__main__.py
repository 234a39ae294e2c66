"""Set up and serve the test provider on an inherited socket: ``--fd N``.

The spec (JSON in ``OIDC_PROVIDER_SPEC``) names the client and the provider's accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def signing_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def set_up(spec: dict) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    from .validator import UNVERIFIED_GROUP

    call_command("migrate", verbosity=0)
    unverified, _ = Group.objects.get_or_create(name=UNVERIFIED_GROUP)
    for account in spec["users"]:
        user = User.objects.create_user(
            username=account["username"], email=account["email"], password=account["password"]
        )
        if not account.get("email_verified", True):
            user.groups.add(unverified)
    Application.objects.create(
        name="cartable",
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=spec["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.accounts.oidc_provider.settings"
    os.environ["OIDC_PROVIDER_RSA_KEY"] = signing_key()

    import django

    django.setup()
    set_up(json.loads(os.environ["OIDC_PROVIDER_SPEC"]))

    import uvicorn
    from django.core.asgi import get_asgi_application

    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(get_asgi_application(), lifespan="off", log_level="warning")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
