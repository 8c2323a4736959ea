"""YAML documents as real ones are written: unquoted response codes and dates (issue 14).

YAML 1.1 reads `200:` as an integer key and `2020-01-01` as a date; an OpenAPI document is JSON
data, so keys are strings and dates stay the text they were. Found on openapi-spec-validator's
own petstore (an internal error, exit 3, in `validate` and `breaking`).
"""

from __future__ import annotations

from pathlib import Path

from opsconductor_conformance import load_source

from .conftest import CLI

PETSTORE = """\
openapi: 3.0.0
info: {title: pets, version: 1.0.0}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        200:
          description: pets
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Pet'}
        default:
          description: error
components:
  schemas:
    Pet:
      type: object
      properties:
        born: {type: string, format: date, example: 2020-01-01}
        on: {type: boolean}
      x-codes: {1: one, true: yes, null: none, 1.5: half}
"""


def test_keys_are_strings_and_dates_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "petstore.yaml"
    path.write_text(PETSTORE)
    document = load_source(str(path)).document
    responses = document["paths"]["/pets"]["get"]["responses"]
    assert set(responses) == {"200", "default"}
    pet = document["components"]["schemas"]["Pet"]
    assert pet["properties"]["born"]["example"] == "2020-01-01"
    assert set(pet["properties"]) == {"born", "on"}
    assert pet["x-codes"] == {"1": "one", "true": "yes", "null": "none", "1.5": "half"}
    assert document["components"]["schemas"]["Pet"]["properties"]["on"] == {"type": "boolean"}


def test_validate_reads_unquoted_response_codes(cli: CLI, tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(PETSTORE)
    run = cli("validate", path, "--format", "json")
    assert run.code == 1, run.err
    assert "internal error" not in run.err
    assert any("/responses/200" in f.get("pointer", "") for f in run.json()["findings"])
