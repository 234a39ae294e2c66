"""The kit's credential, in a file only its user may read (mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ENV_HOME = "CARTABLE_KIT_HOME"


def default_path() -> Path:
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home) / "credential.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cartable-kit" / "credential.json"


@dataclass(frozen=True)
class Credential:
    server: str
    device_id: int
    token: str
    heartbeat_interval_s: int = 60


class CredentialError(Exception):
    pass


def save(credential: Credential, path: Path | None = None) -> Path:
    """Write the credential atomically, readable and writable by its user only."""
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    # Created 0600 from the start: the secret is never readable by others, even briefly.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(credential), out)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def load(path: Path | None = None) -> Credential:
    path = path or default_path()
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise CredentialError(
            f"Aucun identifiant dans {path} : enrôlez le boîtier (cartable-kit enrol)."
        ) from None
    if mode & 0o077:
        raise CredentialError(
            f"{path} est lisible par d'autres utilisateurs (mode {mode:o}) : "
            "il doit être en 0600. Corrigez-le (chmod 600) ou enrôlez à nouveau."
        )
    try:
        data = json.loads(path.read_text())
        return Credential(
            server=str(data["server"]),
            device_id=int(data["device_id"]),
            token=str(data["token"]),
            heartbeat_interval_s=int(data.get("heartbeat_interval_s", 60)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CredentialError(f"{path} est illisible ({exc}) : enrôlez à nouveau.") from None
