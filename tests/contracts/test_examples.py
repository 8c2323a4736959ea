"""Every example of every component loads into its generated model and round-trips to JSON
that still validates against the source schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opsconductor_conformance import SchemaSet

from tests.contracts.conftest import COMPONENTS, SCHEMASET, adapter

EXAMPLES = [
    pytest.param(name, index, example, id=f"{name}-{index}")
    for name in COMPONENTS
    for index, example in enumerate(SCHEMASET.components()[name][1].get("examples", []))
]


def test_every_component_has_examples() -> None:
    assert {name for name, _, _ in (p.values for p in EXAMPLES)} == set(COMPONENTS)


@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES)
def test_example_round_trips(schemaset: SchemaSet, name: str, index: int, example: Any) -> None:
    validator = schemaset.validator(name)
    assert list(validator.iter_errors(example)) == []

    model = adapter(name)
    loaded = model.validate_json(json.dumps(example))
    dumped = json.loads(model.dump_json(loaded))
    errors = [error.message for error in validator.iter_errors(dumped)]
    assert errors == [], f"{name} example {index} re-serialised to invalid JSON: {dumped}"
    # Nothing the example said is lost or changed on the way through the model, except that
    # `format: password` fields are SecretStr and serialise masked (on purpose).
    properties = schemaset.components()[name][1].get("properties", {})
    secrets = {key for key, prop in properties.items() if prop.get("format") == "password"}
    for key in secrets:
        assert dumped[key] == "**********"
        assert getattr(loaded, key).get_secret_value() == example[key]
    expected = {k: v for k, v in example.items() if k not in secrets} if secrets else example
    assert _restricted(dumped, expected) == expected


def _restricted(dumped: Any, example: Any) -> Any:
    """`dumped` cut down to the keys the example has (the model adds defaults and nulls)."""
    if isinstance(example, dict) and isinstance(dumped, dict):
        return {key: _restricted(dumped.get(key), value) for key, value in example.items()}
    if isinstance(example, list) and isinstance(dumped, list):
        return [_restricted(d, e) for d, e in zip(dumped, example, strict=False)] + dumped[
            len(example) :
        ]
    return dumped
