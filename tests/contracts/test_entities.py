"""The entity base: a resource with a `version` of its own keeps its optimistic lock.

`BaseEntity` named the lock `version`, so a step library or a job definition with a release
`version` replaced it without a word (pydantic lets a subclass redeclare a field), and the
contract's `allOf` of the two could not be satisfied by any instance. `Entity` names the lock
`lock_version`; `BaseEntity` stays, deprecated, until the next major version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from opsconductor_conformance import SchemaSet
from opsconductor_contracts import BaseEntity, Entity
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

NOW = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


class StepLibrary(Entity):
    """A resource whose domain has a version of its own."""

    name: str
    version: str = Field(description="The library's release, such as 1.4.2.")


def test_a_resource_with_its_own_version_keeps_the_lock() -> None:
    library = StepLibrary(
        id=1, created_at=NOW, updated_at=NOW, lock_version=3, name="linux", version="1.4.2"
    )
    assert (library.lock_version, library.version) == (3, "1.4.2")
    with pytest.raises(PydanticValidationError, match="lock_version"):
        StepLibrary(id=1, created_at=NOW, updated_at=NOW, name="linux", version="1.4.2")
    properties = StepLibrary.model_json_schema()["properties"]
    assert properties["lock_version"]["type"] == "integer"
    assert properties["version"]["type"] == "string"


def test_on_the_deprecated_base_the_domain_version_replaced_the_lock() -> None:
    class OldStepLibrary(BaseEntity):
        version: str  # type: ignore[assignment]

    # Nothing refuses it, and nothing is left of the lock: this is the collision.
    old = OldStepLibrary(id=1, created_at=NOW, updated_at=NOW, version="1.4.2")
    assert "lock_version" not in type(old).model_fields
    assert type(old).model_fields["version"].annotation is str


def _composed(schemaset: SchemaSet, base: str) -> Any:
    document, schema = schemaset.components()[base]
    return {
        "allOf": [
            schema,
            {"properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
        ]
    }, document


@pytest.mark.parametrize(("base", "valid"), [("Entity", True), ("BaseEntity", False)])
def test_allof_with_a_domain_version(schemaset: SchemaSet, base: str, valid: bool) -> None:
    schema, _ = _composed(schemaset, base)
    instance = {
        "id": 1,
        "created_at": "2026-01-15T10:30:00Z",
        "updated_at": "2026-01-15T10:30:00Z",
        "lock_version": 3,
        "name": "linux",
        "version": "1.4.2",
    }
    assert Draft202012Validator(schema).is_valid(instance) is valid
    if not valid:  # whatever the version: an integer fails the domain's, a string the lock's
        assert not Draft202012Validator(schema).is_valid({**instance, "version": 3})


def test_base_entity_is_deprecated_in_the_contract(schemaset: SchemaSet) -> None:
    components = schemaset.components()
    assert components["BaseEntity"][1].get("deprecated") is True
    assert "deprecated" not in components["Entity"][1]
    assert "Deprecated: use `Entity`" in (BaseEntity.__doc__ or "")
