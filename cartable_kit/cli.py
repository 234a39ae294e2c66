"""``cartable-kit``: enrol the kit once, then run its agent (started at boot by systemd)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from . import __version__, credential, system
from .deviceapi import ApiError, DeviceApi


def enrol(args) -> int:
    serial = args.serial or system.serial()
    if not serial:
        print("Numéro de série inconnu : indiquez-le avec --serial (il est sur l'étiquette).")
        return 2
    api = DeviceApi(args.server)
    try:
        answer = api.enrol(serial=serial, code=args.code)
    except ApiError as exc:
        print(f"Enrôlement refusé : {exc.message}")
        return 1
    except OSError as exc:
        print(f"Plateforme injoignable ({args.server}) : {exc}")
        return 1
    path = credential.save(
        credential.Credential(
            server=args.server.rstrip("/"),
            device_id=answer["device_id"],
            token=answer["token"],
            heartbeat_interval_s=answer["heartbeat_interval_s"],
        ),
        args.credential,
    )
    print(f"Boîtier enrôlé (appareil n° {answer['device_id']}), identifiant gardé dans {path}.")
    return 0


def run(args) -> int:
    from .agent import Agent, AgentOptions

    try:
        held = credential.load(args.credential)
    except credential.CredentialError as exc:
        print(exc)
        return 2
    options = AgentOptions(
        board=args.board,
        class_camera=args.class_camera,
        loan=args.loan,
        heartbeat_only=args.heartbeat_only,
    )
    asyncio.run(Agent(held, options).run())
    return 0


def status(args) -> int:
    try:
        held = credential.load(args.credential)
        print(DeviceApi(held.server, held.token).me())
    except (credential.CredentialError, ApiError, OSError) as exc:
        print(exc)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cartable-kit", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--credential", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("enrol", help="enrôler le boîtier avec le code de son étiquette")
    p.add_argument("--server", required=True)
    p.add_argument("--code", required=True)
    p.add_argument("--serial", default=None)
    p.set_defaults(func=enrol)
    p = commands.add_parser("run", help="l'agent : signaux de vie et côté classe des cours")
    p.add_argument("--board", default="auto", help="/dev/v4l/by-id/..., test:, or a file")
    p.add_argument("--class-camera", default="auto")
    p.add_argument("--loan", type=int, default=None, help="the loan (else: read from /me)")
    p.add_argument("--heartbeat-only", action="store_true")
    p.set_defaults(func=run)
    p = commands.add_parser("status", help="ce que la plateforme sait du boîtier")
    p.set_defaults(func=status)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
