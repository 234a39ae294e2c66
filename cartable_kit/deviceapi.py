"""A small client of the platform's device API (cartable/fleet/api.py), with urllib only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class DeviceApi:
    server: str
    token: str | None = None
    timeout: float = 15.0

    def _call(self, method: str, path: str, body: dict | None = None):
        url = self.server.rstrip("/") + "/api/devices" + path
        request = urllib.request.Request(url, method=method)  # noqa: S310 (http(s) only below)
        if not url.startswith(("http://", "https://")):
            raise ValueError("The server is an http:// or https:// address.")
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        # No proxy from the environment: the kit talks to its platform directly.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                data = json.loads(raw)
            except ValueError:
                data = {}
            raise ApiError(
                exc.code, data.get("code", "http_error"), data.get("message", str(exc))
            ) from None

    def enrol(self, *, serial: str, code: str) -> dict:
        return self._call("POST", "/enrol", {"serial": serial, "code": code})[1]

    def heartbeat(self, report: dict) -> list[dict]:
        """Send one heartbeat; return the commands the platform asks of the kit."""
        status, data = self._call("POST", "/heartbeat", report)
        return (data or {}).get("commands", []) if status == 200 else []

    def me(self) -> dict:
        return self._call("GET", "/me")[1]

    def command_result(self, command_id: int, *, ok: bool, message: str) -> None:
        self._call("POST", f"/commands/{int(command_id)}/result", {"ok": ok, "message": message})
