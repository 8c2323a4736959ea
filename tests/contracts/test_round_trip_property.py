"""Property: any instance the source schema accepts, the generated model accepts too, and
serialises back to JSON the schema still accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from opsconductor_conformance.normalize import normalize_schema

from tests.contracts.conftest import COMPONENTS, SCHEMASET, adapter
from tests.contracts.strategies import from_schema


@pytest.mark.parametrize("name", COMPONENTS)
def test_schema_instances_round_trip(name: str) -> None:
    document, schema = SCHEMASET.components()[name]
    strategy = from_schema(normalize_schema(schema, SCHEMASET.resolver(document)))
    model = adapter(name)
    validator = SCHEMASET.validator(name)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(instance=strategy)
    def check(instance: Any) -> None:
        assert [e.message for e in validator.iter_errors(instance)] == [], (
            "strategy drew an invalid instance"
        )
        loaded = model.validate_json(json.dumps(instance))
        dumped = json.loads(model.dump_json(loaded))
        assert [e.message for e in validator.iter_errors(dumped)] == []

    check()
