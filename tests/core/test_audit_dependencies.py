"""scripts/audit-dependencies says how much it audited: a vulnerability fails, an audit that
covered nothing says so loudly (and fails with --strict), never "no vulnerability found".

pip-audit is replaced by a stand-in that answers as the real one does (its JSON report),
one answer per advisory service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit-dependencies"

UNKNOWN = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"}
CLEAN = {"name": "segno", "version": "1.6.6", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "5.2.1",
    "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"], "aliases": []}],
}


@pytest.fixture
def fake_pip_audit(tmp_path):
    """A pip-audit answering ``answers[service]``: a report, or None for unreachable."""

    def make(answers: dict[str, list[dict] | None]) -> dict[str, str]:
        program = tmp_path / "pip-audit"
        program.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"answers = json.loads({json.dumps(json.dumps(answers))})\n"
            "service = sys.argv[sys.argv.index('--vulnerability-service') + 1]\n"
            "report = answers[service]\n"
            "if report is None:\n"
            "    sys.exit('ConnectionError: Failed to resolve api.osv.dev')\n"
            "print(json.dumps({'dependencies': report, 'fixes': []}))\n"
            "sys.exit(1 if any(d.get('vulns') for d in report) else 0)\n"
        )
        program.chmod(0o755)
        return {"PIP_AUDIT": str(program), "PATH": "/usr/bin:/bin"}

    return make


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_an_audit_that_covered_nothing_says_so_and_fails_when_strict(fake_pip_audit):
    env = fake_pip_audit({"pypi": [UNKNOWN, UNKNOWN], "osv": None})
    result = run(env)
    assert result.returncode == 0
    assert "the dependency audit did NOT happen" in result.stderr
    assert "pypi: 2 of 2 unknown to the service" in result.stderr
    assert "osv: unreachable" in result.stderr
    assert "No known vulnerabilities" not in result.stdout + result.stderr
    assert run(env, "--strict").returncode == 2


def test_the_next_service_is_asked_when_the_first_knows_nothing(fake_pip_audit):
    env = fake_pip_audit({"pypi": [UNKNOWN, UNKNOWN], "osv": [CLEAN, CLEAN]})
    result = run(env, "--strict")
    assert result.returncode == 0
    assert "2 of 2 installed distributions audited against osv's advisory data" in result.stdout
    assert "0 known vulnerabilities" in result.stdout


def test_a_partial_audit_counts_what_it_could_not_audit(fake_pip_audit):
    env = fake_pip_audit({"pypi": [CLEAN, UNKNOWN, UNKNOWN], "osv": None})
    result = run(env)
    assert result.returncode == 0
    assert "1 of 3 installed distributions audited against pypi" in result.stdout
    assert "2 distributions are unknown to pypi and were NOT audited" in result.stdout


def test_a_known_vulnerability_fails_and_is_named_with_its_fix(fake_pip_audit):
    env = fake_pip_audit({"pypi": [CLEAN, VULNERABLE], "osv": None})
    result = run(env)
    assert result.returncode == 1
    assert "1 known vulnerability" in result.stdout
    assert "django 5.2.1: PYSEC-2025-1 (fixed in: 5.2.2)" in result.stdout
