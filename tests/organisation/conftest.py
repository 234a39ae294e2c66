"""Fixtures for the organisation tests.

The data migration loads the académies into a fresh database, but tests that use
``transactional_db`` (the live tests) flush every table afterwards, so each test here asks
for the tree explicitly; loading it again is idempotent and cheap.
"""

import pytest

from cartable.organisation.services import academies_load


@pytest.fixture
def academies(db):
    academies_load()
