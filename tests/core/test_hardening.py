"""Hardening: the headers of every response, nothing loaded from another origin, no inline
script, production refusing to start half configured, and nothing that records."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

import cartable

from ..conftest import PASSWORD, force_login

ROOT = Path(cartable.__file__).parent
CARTABLE = Path(sys.executable).with_name("cartable")


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        directive.split()[0]: directive.split()[1:]
        for directive in header.split(";")
        if directive.strip()
    }


@pytest.mark.parametrize(
    "path",
    ["/", "/connexion/", "/appairer/", "/page-qui-n-existe-pas/", "/api/openapi.json"],
)
def test_every_response_carries_the_security_headers(db, path):
    response = Client().get(path)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_carry_them_too(teacher, loan):
    client = force_login(Client(), teacher)
    response = client.get(f"/station/{loan.pk}/")
    assert response.status_code == 200
    assert policy(response)["script-src"] == ["'self'"]


def test_the_session_cookie_is_out_of_reach_of_scripts(teacher):
    teacher.email = "prof@example.org"
    teacher.save(update_fields=["email"])
    response = Client().post("/connexion/", {"username": teacher.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def source_files(*suffixes: str):
    for path in ROOT.rglob("*"):
        if path.suffix in suffixes and "migrations" not in path.parts:
            yield path


def test_no_inline_script_or_style_and_nothing_from_another_origin():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
    style_attribute = re.compile(r"\sstyle\s*=\s*[\"']", re.IGNORECASE)
    # What a page *loads* (scripts, styles, images, fonts, frames), not the links it shows.
    remote_load = re.compile(
        r"(?:\bsrc\s*=\s*[\"']|<link[^>]+href\s*=\s*[\"']|url\(\s*[\"']?|@import\s+[\"'])"
        r"(?:https?:)?//",
        re.IGNORECASE,
    )
    problems = []
    for path in source_files(".html"):
        text = path.read_text(encoding="utf-8")
        for name, pattern in (
            ("inline script", inline_script),
            ("event handler attribute", handler),
            ("style attribute", style_attribute),
            ("load from another origin", remote_load),
        ):
            if pattern.search(text):
                problems.append(f"{path.relative_to(ROOT)}: {name}")
    for path in source_files(".css", ".js"):
        text = path.read_text(encoding="utf-8")
        if remote_load.search(text) or re.search(r"fetch\(\s*[\"']https?://", text):
            problems.append(f"{path.relative_to(ROOT)}: load from another origin")
    assert problems == []


def test_nothing_records_audio_or_video():
    """No client code may record, and no server code handles recorded media."""
    recorders = re.compile(r"\bMediaRecorder\b|\bwebkitMediaRecorder\b")
    found = [
        str(path.relative_to(ROOT))
        for path in source_files(".js", ".html", ".py")
        if recorders.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    # Nothing on the server writes media files either: no file extension of audio or video
    # appears in code that opens files.
    media = re.compile(r"open\([^)]*\.(?:webm|mp4|mkv|ogg|opus|wav|y4m|h264)\b", re.IGNORECASE)
    writers = [
        str(path.relative_to(ROOT))
        for path in source_files(".py")
        if media.search(path.read_text(encoding="utf-8"))
    ]
    assert writers == []


PRODUCTION_ENV = {
    "CARTABLE_PRODUCTION": "1",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "cartable.example.org",
    "DATABASE_URL": "postgres://cartable@localhost/cartable",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.example.org",
    "DEFAULT_FROM_EMAIL": "cartable@example.org",
    "SITE_URL": "https://cartable.example.org",
}


def run_cartable(env_changes: dict[str, str | None], *args: str, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARTABLE_", "DJANGO_"))}
    for name in (
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_HOST",
        "SITE_URL",
    ):
        env.pop(name, None)
    env["CARTABLE_VAR_DIR"] = str(tmp_path)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(  # noqa: S603 (our own console script)
        [str(CARTABLE), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_production_passes_the_deployment_checks(tmp_path):
    done = run_cartable(
        PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ("SECRET_KEY", "SECRET_KEY"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS"),
        ("DATABASE_URL", "DATABASE_URL"),
        ("EMAIL_HOST", "EMAIL_HOST"),
        ("SITE_URL", "SITE_URL"),
    ],
)
def test_production_refuses_to_start_half_configured(tmp_path, missing, said):
    done = run_cartable({**PRODUCTION_ENV, missing: None}, "check", tmp_path=tmp_path)
    assert done.returncode != 0
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    done = run_cartable({**PRODUCTION_ENV, "SECRET_KEY": "court"}, "check", tmp_path=tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


def test_production_turns_https_on(tmp_path):
    script = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.DEBUG)"
    )
    done = run_cartable(PRODUCTION_ENV, "shell", "-v", "0", "-c", script, tmp_path=tmp_path)
    assert done.stdout.split() == ["True", "True", "True", "True", "False"], done.stderr
