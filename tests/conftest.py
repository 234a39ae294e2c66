"""Shared fixtures: a loan with its school, class, pupil and kit; people; a real server.

The people follow one pattern (after healthchecks' BaseTestCase): ``teacher`` teaches the
loan's class, ``other_teacher`` teaches another class, ``outsider`` holds no role.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cartable.fleet.models import Kit, Loan
from cartable.fleet.services import credential_issue
from cartable.live.services import pairing_code_create, pairing_redeem
from cartable.organisation.models import Pupil, RoleGrant, School, SchoolClass

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test-only password)


def force_login(client, user):
    """Sign ``user`` in on a test client with every step done, the second factor included
    for the accounts that need one (a confirmed TOTP device, verified in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cartable.accounts.second_factor import requires_second_factor

    client.force_login(user)
    if requires_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_loan(db):
    counter = iter(range(1, 10_000))

    def make(
        *,
        starts_in_days: int = -1,
        ends_in_days: int = 30,
        ended: bool = False,
        authorised: bool = True,
    ) -> Loan:
        """A running loan; ``authorised`` records the authorisations its live sessions
        need (cartable/consent), as for a loan whose papers are in order."""
        n = next(counter)
        digits = f"{750_0000 + n:07d}"
        from cartable.organisation.validators import uai_check_letter

        school = School.objects.create(
            uai=digits + uai_check_letter(digits), name=f"École {n}", kind=School.Kind.ELEMENTAIRE
        )
        klass = SchoolClass.objects.create(
            school=school, name=f"CM1 {n}", level=SchoolClass.Level.CM1, school_year="2026-2027"
        )
        pupil = Pupil.objects.create(display_name=f"Élève {n}", school_class=klass)
        kit = Kit.objects.create(
            code=f"KIT-{n:04d}", status=Kit.Status.RETURNING if ended else Kit.Status.ON_LOAN
        )
        today = timezone.localdate()
        loan = Loan.objects.create(
            kit=kit,
            status=Loan.Status.ENDED if ended else Loan.Status.ACTIVE,
            pupil=pupil,
            school_class=klass,
            starts_on=today + timedelta(days=starts_in_days),
            ends_on=today + timedelta(days=ends_in_days),
            ended_at=timezone.now() if ended else None,
        )
        if authorised:
            from cartable.consent.services import authorise_all

            authorise_all(loan=loan)
        return loan

    return make


@pytest.fixture
def loan(make_loan) -> Loan:
    return make_loan()


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def teacher(loan):
    user = make_user("prof")
    RoleGrant.objects.create(user=user, role=RoleGrant.Role.TEACHER, school_class=loan.school_class)
    return user


@pytest.fixture
def other_teacher(make_loan):
    other = make_loan()
    user = make_user("autre.prof")
    RoleGrant.objects.create(
        user=user, role=RoleGrant.Role.TEACHER, school_class=other.school_class
    )
    return user


@pytest.fixture
def outsider(db):
    return make_user("intrus")


@pytest.fixture
def pupil_token(loan, teacher) -> str:
    """A paired pupil tablet's credential token for ``loan``."""
    issued = pairing_code_create(loan=loan, by=teacher)
    _, token = pairing_redeem(code=issued.code)
    return token


@pytest.fixture
def station_token(loan) -> str:
    """The kit's own class-station credential token."""
    _, token = credential_issue(kind="class_station", kit=loan.kit)
    return token


class LiveServer:
    """The real ASGI application on a real socket (uvicorn), in a background thread."""

    def __init__(self):

        from cartable.asgi import application

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.sock = sock
        self.application = application
        self._prepare()

    def _prepare(self):
        import uvicorn

        config = uvicorn.Config(
            self.application,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # Each server runs its own event loop; a channel layer is bound to the loop that
        # first used it, so each server starts with fresh channel-layer clients.
        from channels.layers import channel_layers

        channel_layers.backends.clear()
        asyncio.run(self.server.serve(sockets=[self.sock]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def restart(self, down_for: float = 0.0):
        """Stop the server, as a worker restart would, and start a new one on the same port."""
        self.stop()
        time.sleep(down_for)
        return self.start_again()

    def start_again(self):
        """Start a new server on the same port, after ``stop``."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.sock = sock
        self._prepare()
        return self.start()


@pytest.fixture
def asgi_server(transactional_db):
    server = LiveServer().start()
    yield server
    server.stop()


# The roles over the loan's organisation (see cartable/organisation/models.py ``Role``).
# ``department`` puts the loan's school in the Yvelines (78, académie de Versailles); the
# other coordinator holds the Essonne (91), in the same académie.


def make_person(username: str, *grants: dict):
    user = make_user(username)
    user.email = f"{username}@example.org"
    user.save(update_fields=["email"])
    for grant in grants:
        RoleGrant.objects.create(user=user, **grant)
    return user


@pytest.fixture
def department(loan):
    from cartable.organisation.models import Department
    from cartable.organisation.services import academies_load

    # Tests on transactional_db start from flushed tables: the tree is loaded again.
    academies_load()
    yvelines = Department.objects.get(code="78")
    School.objects.filter(pk=loan.school_class.school_id).update(department=yvelines)
    loan.school_class.school.department = yvelines
    return yvelines


@pytest.fixture
def coordinator(department):
    return make_person("coordo", {"role": RoleGrant.Role.DEPARTMENT, "department": department})


@pytest.fixture
def other_coordinator(department):
    from cartable.organisation.models import Department

    essonne = Department.objects.get(code="91")
    return make_person("coordo.91", {"role": RoleGrant.Role.DEPARTMENT, "department": essonne})


@pytest.fixture
def dane(department):
    return make_person("dane", {"role": RoleGrant.Role.ACADEMY, "academy": department.academy})


@pytest.fixture
def ministry(department):
    return make_person("ministere", {"role": RoleGrant.Role.NATIONAL})


@pytest.fixture
def school_head(loan):
    return make_person(
        "principal", {"role": RoleGrant.Role.SCHOOL_HEAD, "school": loan.school_class.school}
    )


@pytest.fixture
def hospital_staff(loan):
    return make_person("soignant", {"role": RoleGrant.Role.HOSPITAL_STAFF, "loan": loan})


@pytest.fixture
def family(loan):
    return make_person("famille", {"role": RoleGrant.Role.FAMILY, "loan": loan})


@pytest.fixture
def fleet(db):
    return make_person("parc", {"role": RoleGrant.Role.FLEET})


@pytest.fixture
def dpo(db):
    return make_person("dpd", {"role": RoleGrant.Role.DPO})


@pytest.fixture
def administrator(db):
    return make_person("admin", {"role": RoleGrant.Role.ADMIN})
