"""Real Chromium with fake cameras, against the real server, in a private network namespace.

Run through ``scripts/test`` (or ``make test``), which starts pytest inside ``unshare -n``
with only the loopback interface up: the browser, the server and WebRTC can then reach
nothing but loopback, which is what these tests must talk to.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=device-count=3",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
# Fake device 1 is a depth camera that delivers no frames: the two class cameras are 0 and 2.
BOARD_CAMERA_INDEX, CLASS_CAMERA_INDEX = 0, 2


def only_loopback() -> bool:
    # /proc/net/dev lists the interfaces of this process's own network namespace.
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":")[0].strip() for line in lines] == ["lo"]


@pytest.fixture(scope="session", autouse=True)
def private_network():
    if not only_loopback():
        pytest.fail(
            "Browser and WebRTC tests run in a private network namespace with loopback only: "
            "use scripts/test (it wraps pytest in 'unshare -n')."
        )


@pytest.fixture(scope="package")
def browser(orm_beside_playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/bootstrap")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Pages in separate browser contexts: a class tablet and a pupil tablet are two devices."""
    contexts = []

    def make():
        context = browser.new_context(locale="fr-FR", permissions=["camera", "microphone"])
        contexts.append(context)
        # Every Content-Security-Policy violation a page causes is kept, for
        # ``assert_accessible`` (which every page test calls) to fail on.
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


_axe = Axe()

CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def assert_accessible(page) -> None:
    """No axe-core violation of the WCAG 2.1 A and AA rules on the page as it is now, and
    nothing the page did was refused by its Content-Security-Policy."""
    assert csp_violations(page) == []
    results = _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    violations = results.response["violations"]
    assert violations == [], results.generate_report()


@pytest.fixture(scope="package", autouse=True)
def orm_beside_playwright():
    # Playwright's sync API keeps an event loop on the test's thread, which Django takes
    # for async code; the tests' own ORM calls are plain sync code, so allow them while
    # the browser tests run (the server's thread keeps Django's check).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


class WorkerProcess:
    """``cartable serve`` as its own process, on the test database and channel layer."""

    def __init__(self, port: int):
        import subprocess
        import sys

        from django.db import connection

        settings_dict = connection.settings_dict
        env = dict(os.environ)
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER'] or 'root'}@/{settings_dict['NAME']}"
            f"?host={settings_dict['HOST'] or '/var/run/postgresql'}"
        )
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "cartable.cli", "serve", "--port", str(port)], env=env
        )

    def wait_ready(self, timeout: float = 15.0):
        import socket
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"worker on port {self.port} did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
