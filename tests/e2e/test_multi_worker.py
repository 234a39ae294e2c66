"""Two worker processes sharing the Redis channel layer, as in production."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from .conftest import WorkerProcess, free_port
from .helpers import frames, open_station, pair_tablet
from .test_live_link import rising, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="several processes need the Redis channel layer"
    ),
]


@pytest.fixture
def two_workers(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the database through PostgreSQL")
    workers = [WorkerProcess(free_port()) for _ in range(2)]
    try:
        yield [worker.wait_ready() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()


def test_class_and_pupil_on_different_workers_connect(two_workers, new_page, loan, teacher):
    class_worker, pupil_worker = two_workers
    station = open_station(new_page(), class_worker, teacher, loan)
    pupil = pair_tablet(new_page(), pupil_worker, loan, teacher)

    pupil.get_by_role("button", name="Rejoindre la classe").click()
    station.locator("#station[data-pupil=waiting]").wait_for(state="attached")
    station.get_by_role("button", name="Démarrer la séance").click()

    wait_until(lambda: set(frames(pupil)) >= {"board", "class"})
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    station.get_by_role("button", name="Terminer la séance").click()
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")
