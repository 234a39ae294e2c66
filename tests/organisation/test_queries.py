"""Queries per page: a person's grants are read once per request (``Actor.grants``), and
lists do not cost a query per row. Each page is counted with one loan in the département,
then with four: the count must not grow, and stays under a bound that says what a page
should cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartable.organisation.models import RoleGrant, School

from ..conftest import force_login, make_person

# page -> the most queries it may take (sessions, the account, its grants, its data).
BOUNDS = {
    ("coordinator", "/"): 16,
    ("coordinator", "/prets/"): 10,
    ("coordinator", "/prets/{loan}/"): 16,
    ("coordinator", "/parc/"): 16,
    ("teacher", "/"): 7,
    ("teacher", "/prets/{loan}/"): 13,
    ("fleet", "/"): 7,
    ("fleet", "/prets/"): 9,
    ("fleet", "/parc/"): 16,
}


def count(client, path: str) -> int:
    client.get(path)  # the first request may warm caches (content types, sites)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries.captured_queries)


@pytest.fixture
def people(loan, department, coordinator, teacher):
    return {
        "coordinator": coordinator,
        "teacher": teacher,
        "fleet": make_person("flotte", {"role": RoleGrant.Role.FLEET}),
    }


def more_loans(make_loan, department, teacher, n: int) -> None:
    for _ in range(n):
        other = make_loan()
        School.objects.filter(pk=other.school_class.school_id).update(department=department)
        RoleGrant.objects.create(
            user=teacher, role=RoleGrant.Role.TEACHER, school_class=other.school_class
        )


@pytest.mark.parametrize(("who", "page"), list(BOUNDS))
def test_a_page_reads_the_grants_once_and_costs_no_query_per_row(
    client, people, loan, make_loan, department, teacher, who, page
):
    force_login(client, people[who])
    path = page.format(loan=loan.pk)
    one = count(client, path)
    more_loans(make_loan, department, teacher, 3)
    four = count(client, path)
    assert four == one, f"{path}: {one} queries with one loan, {four} with four"
    assert four <= BOUNDS[(who, page)], f"{path}: {four} queries"
