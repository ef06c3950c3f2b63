"""Schemathesis against the OpenAPI schema, as the branch secretary with a token: no response
may be a server error, and every response must match the schema. Bounded and deterministic."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def secretary_token(world, frozen_today):
    # Requests run inside the test's transaction; like Django's test client, keep the WSGI
    # handler from closing that connection at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield Token.objects.get_or_create(user=world.secretary)[0].key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, secretary_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {secretary_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
