"""schemathesis against the OpenAPI schema, with a bearer token: no 5xx, every documented status honoured.

quality.md, Security: "schemathesis against the OpenAPI schema finds no 5xx". The schema is the one the
application serves at /schema/openapi.json; every operation is called with generated valid and invalid
input by the demo psychiatrist's API token.

The calculators document their bodies as JSON objects and validate them in the application, which names
every bad field in one 422 (a schema-level rejection would name only the first): schemathesis' "a
schema-valid request is accepted" check is therefore left out; every other check applies.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.specs.openapi.checks import positive_data_acceptance

from parcours_web.auth.service import issue_token
from shared_core.db import Database

pytestmark = pytest.mark.db

EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def bearer(demo_database: Database) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(demo_database, 'psychiatre@demo.parcours.fr', None)}"}


@pytest.fixture(scope="module")
def api_schema(demo_app: Litestar, bearer: dict[str, str]) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", demo_app, headers=bearer)


def test_every_operation_honours_the_schema(api_schema: Any, bearer: dict[str, str]) -> None:
    """Each operation in turn (schemathesis' own pytest plugin does not support this pytest yet)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8, "the schema lists too few operations"
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n\n".join(failures)
