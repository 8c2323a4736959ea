"""One OpenAPI document per failure mode: the exit code and the exact findings (rule, pointer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from opsconductor_conformance import RULES, Severity
from opsconductor_conformance.rules import RuleRegistry

from .conftest import CLI, OPENAPI_FIXTURES

E, W, INFO = "error", "warning", "info"
PATHS = "/paths"
TARGETS = "/paths/~1targets"
TARGET = "/paths/~1targets~1{target_id}"
JSON_SCHEMA = "content/application~1json/schema"
PROBLEM_SCHEMA = "content/application~1problem+json/schema"

# file name -> (exit code, [(rule, severity, pointer)]): every fixture is listed here.
EXPECTED: dict[str, tuple[int, list[tuple[str, str, str]]]] = {
    "compliant.yaml": (0, []),
    "compliant-openapi-3.0.yaml": (0, []),
    "compliant-fastapi-style.yaml": (0, []),
    "component-compat-enum-both.yaml": (
        1,
        [("component-compat", E, "/components/schemas/SortDirection")],
    ),
    "component-compat-generic-name.yaml": (
        1,
        [
            (
                "component-compat",
                E,
                "/components/schemas/PaginatedResponse_Target_/properties/pagination",
            )
        ],
    ),
    "component-compat-marker.yaml": (
        1,
        [("component-compat", E, "/components/schemas/Problem/properties/request_id")],
    ),
    "component-compat-marker-unknown.yaml": (
        1,
        [("component-compat", E, "/components/schemas/Target/x-opsconductor-contract")],
    ),
    "component-compat-missing-optional.yaml": (
        0,
        [("component-compat", INFO, "/components/schemas/DependencyCheck/properties/details")],
    ),
    "component-compat-missing-property.yaml": (
        1,
        [("component-compat", E, "/components/schemas/DependencyCheck/properties/duration_ms")],
    ),
    "component-compat-optional-drift.yaml": (
        1,
        [("component-compat", E, "/components/schemas/DependencyCheck/properties/critical")],
    ),
    "component-compat-nullable.yaml": (
        1,
        [("component-compat", E, "/components/schemas/HealthResponse/properties/version")],
    ),
    "component-compat-request-required.yaml": (
        1,
        [("component-compat", E, "/components/schemas/PaginationParams/properties/per_page")],
    ),
    "component-compat-response-narrower.yaml": (0, []),
    "contracts-version-invalid.yaml": (
        0,
        [("contracts-version", W, "/info/x-opsconductor-contracts")],
    ),
    "contracts-version-major.yaml": (
        1,
        [("contracts-version", E, "/info/x-opsconductor-contracts")],
    ),
    "contracts-version-missing.yaml": (0, [("contracts-version", W, "/info")]),
    "contracts-version-top-level.yaml": (0, []),
    "documented-errors-4xx-range.yaml": (0, []),
    "documented-errors-no-403.yaml": (0, [("documented-errors", W, f"{TARGETS}/post/responses")]),
    "documented-errors-no-404.yaml": (0, [("documented-errors", W, f"{TARGET}/get/responses")]),
    "error-envelope-default.yaml": (
        1,
        [
            ("error-envelope", E, f"{TARGET}/get/responses/default/{JSON_SCHEMA}"),
            ("legacy-detail-error", W, f"{TARGET}/get/responses/default/{JSON_SCHEMA}"),
        ],
    ),
    "error-envelope-missing-optional.yaml": (
        1,
        [("error-envelope", E, f"{TARGET}/get/responses/500/{PROBLEM_SCHEMA}")],
    ),
    "error-envelope-no-body.yaml": (1, [("error-envelope", E, f"{TARGET}/get/responses/404")]),
    "error-envelope-shared-response.yaml": (
        1,
        [
            (
                "error-envelope",
                E,
                "/components/responses/Problem/content/application~1problem+json/schema",
            ),
            (
                "validation-envelope",
                E,
                "/components/responses/Problem/content/application~1problem+json/schema",
            ),
        ],
    ),
    "error-envelope-text-plain.yaml": (1, [("error-envelope", E, f"{TARGETS}/post/responses/500")]),
    "error-envelope-wrong-schema.yaml": (
        1,
        [("error-envelope", E, f"{TARGET}/get/responses/500/{JSON_SCHEMA}")],
    ),
    "health-endpoint-missing.yaml": (
        1,
        [("health-endpoint", E, PATHS), ("health-endpoint", E, PATHS)],
    ),
    "health-endpoint-missing-optional.yaml": (
        1,
        [("health-endpoint", E, f"/paths/~1health~1live/get/responses/200/{JSON_SCHEMA}")],
    ),
    "health-endpoint-plain-health.yaml": (0, []),
    "health-endpoint-wrong-shape.yaml": (
        1,
        [("health-endpoint", E, f"/paths/~1health~1live/get/responses/200/{JSON_SCHEMA}")],
    ),
    "operation-id-duplicate.yaml": (0, [("operation-id", W, f"{TARGETS}/post/operationId")]),
    "operation-id-missing.yaml": (0, [("operation-id", W, f"{TARGETS}/post")]),
    "operation-id-not-snake-case.yaml": (0, [("operation-id", W, f"{TARGET}/get/operationId")]),
    "pagination-bare-array.yaml": (
        1,
        [("pagination", E, f"{TARGETS}/get/responses/200/{JSON_SCHEMA}")],
    ),
    "pagination-items-without-meta.yaml": (
        1,
        [("pagination", E, f"{TARGETS}/get/responses/200/{JSON_SCHEMA}")],
    ),
    "pagination-meta-missing-fields.yaml": (
        1,
        [("pagination", E, f"{TARGETS}/get/responses/200/{JSON_SCHEMA}")],
    ),
    "pagination-missing-parameters.yaml": (1, [("pagination", E, f"{TARGETS}/get/parameters")]),
    "pagination-parameter-type.yaml": (
        1,
        [("pagination", E, f"{TARGETS}/get/parameters/1/schema")],
    ),
    "pagination-wrong-shape.yaml": (
        1,
        [("component-compat", E, "/components/schemas/TargetPage/properties/pagination")],
    ),
    "security-declared-missing.yaml": (0, [("security-declared", W, f"{TARGETS}/get")]),
    "security-declared-no-401.yaml": (0, [("security-declared", W, f"{TARGETS}/get/responses")]),
    "security-declared-public-inherits.yaml": (
        0,
        [("security-declared", W, "/paths/~1health~1live/get/x-public")],
    ),
    "security-declared-unknown-scheme.yaml": (
        0,
        [("security-declared", W, f"{TARGETS}/post/security/0")],
    ),
    "validation-envelope-400.yaml": (
        1,
        [("validation-envelope", E, f"{TARGETS}/post/responses/400/{JSON_SCHEMA}")],
    ),
    "validation-envelope-fastapi-default.yaml": (
        1,
        [("validation-envelope", E, f"{TARGETS}/post/responses/422/{JSON_SCHEMA}")],
    ),
    "validation-envelope-no-errors.yaml": (
        1,
        [("validation-envelope", E, f"{TARGETS}/post/responses/422/{PROBLEM_SCHEMA}")],
    ),
    "validation-envelope-missing.yaml": (
        1,
        [("validation-envelope", E, f"{TARGETS}/post/responses")],
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in OPENAPI_FIXTURES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(cli: CLI, name: str) -> None:
    code, expected = EXPECTED[name]
    run = cli("validate", OPENAPI_FIXTURES / name, "--format", "json")
    assert run.err == ""
    findings = run.json()["findings"]
    assert sorted((f["rule"], f["severity"], f["pointer"]) for f in findings) == sorted(expected)
    assert run.code == code
    for finding in findings:
        assert finding["service"] == "targets-service"
        assert finding["location"].endswith(name)
        assert len(finding["message"]) > 20


@pytest.mark.parametrize(
    "name",
    [n for n, (_, found) in sorted(EXPECTED.items()) if found and all(s == W for _, s, _ in found)],
)
def test_warnings_fail_only_when_strict(cli: CLI, name: str) -> None:
    assert cli("validate", OPENAPI_FIXTURES / name).code == 0
    assert cli("validate", OPENAPI_FIXTURES / name, "--strict").code == 1


def test_messages_say_what_to_fix(cli: CLI) -> None:
    run = cli(
        "validate",
        OPENAPI_FIXTURES / "validation-envelope-fastapi-default.yaml",
        "--format",
        "json",
    )
    (finding,) = run.json()["findings"]
    assert "HTTPValidationError" in finding["message"]
    assert "ErrorResponse" in finding["message"]
    run = cli("validate", OPENAPI_FIXTURES / "operation-id-not-snake-case.yaml", "--format", "json")
    assert "generate_unique_id_function" in run.json()["findings"][0]["message"]


def test_an_optional_property_of_a_later_minor_release_is_an_info(cli: CLI) -> None:
    fixture = OPENAPI_FIXTURES / "component-compat-missing-optional.yaml"
    run = cli("validate", fixture, "--strict", "--format", "json")
    assert run.code == 0
    (finding,) = run.json()["findings"]
    assert finding["severity"] == INFO
    assert "'details'" in finding["message"]
    assert "added in contracts 1.3.0" in finding["message"]
    assert "this document declares 1.2.0" in finding["message"]


def test_a_missing_optional_property_as_old_as_the_declared_version_is_drift(cli: CLI) -> None:
    run = cli(
        "validate", OPENAPI_FIXTURES / "component-compat-optional-drift.yaml", "--format", "json"
    )
    (finding,) = run.json()["findings"]
    assert "does not list the contract's optional property 'critical'" in finding["message"]
    assert "generate it from opsconductor_contracts.DependencyCheck" in finding["message"]


def test_several_sources_give_one_report(cli: CLI) -> None:
    run = cli(
        "validate",
        OPENAPI_FIXTURES / "compliant.yaml",
        OPENAPI_FIXTURES / "pagination-bare-array.yaml",
        "--format",
        "json",
    )
    assert run.code == 1
    services = run.json()["summary"]["services"]
    assert [(s["location"].rsplit("/", 1)[-1], s["errors"]) for s in services] == [
        ("compliant.yaml", 0),
        ("pagination-bare-array.yaml", 1),
    ]


def test_validate_against_a_schema_directory(cli: CLI) -> None:
    schemas = OPENAPI_FIXTURES.parent.parent.parent / "schemas"
    assert cli("validate", OPENAPI_FIXTURES / "compliant.yaml", "--schemas", schemas).code == 0


def test_validate_against_a_broken_schema_directory(cli: CLI, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.yaml").write_text("openapi: 3.1.0\ninfo: {title: a, version: one}\n")
    run = cli("validate", OPENAPI_FIXTURES / "compliant.yaml", "--schemas", broken)
    assert run.code == 2
    assert "info.version must be a semantic version" in run.err


def test_two_copies_of_one_service_keep_their_own_findings(cli: CLI, tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((OPENAPI_FIXTURES / "pagination-bare-array.yaml").read_text())
    run = cli("validate", OPENAPI_FIXTURES / "pagination-bare-array.yaml", copy, "--format", "json")
    assert [s["errors"] for s in run.json()["summary"]["services"]] == [1, 1]
    assert len(run.json()["findings"]) == 2


def test_every_finding_of_a_fixture_is_a_registered_validate_rule(cli: CLI) -> None:
    for name in sorted(EXPECTED):
        for finding in cli("validate", OPENAPI_FIXTURES / name, "--format", "json").json()[
            "findings"
        ]:
            assert RULES[finding["rule"]].kind == "validate", (name, finding["rule"])


def test_the_registry_lists_each_rule_once_in_the_order_written() -> None:
    ids = [known.id for known in RULES.rules()]
    assert len(ids) == len(set(ids))
    assert [known.id for known in RULES.rules("validate")] == [
        "component-compat",
        "error-envelope",
        "validation-envelope",
        "pagination",
        "health-endpoint",
        "security-declared",
        "documented-errors",
        "operation-id",
        "contracts-version",
        # opsconductor_conformance.legacy: the migration rules
        "legacy-error-envelope",
        "legacy-detail-error",
        "legacy-page",
        "legacy-skip-limit",
        "legacy-success-envelope",
        "legacy-create-status",
        "legacy-compat-mode",
    ]
    assert {known.kind for known in RULES.rules()} == {"validate", "breaking", "lint"}
    for known in RULES.rules():
        assert known.summary, known.id
        assert callable(known.check), known.id


def test_a_registry_keeps_stacked_rules_in_order_and_refuses_duplicates() -> None:
    registry = RuleRegistry()

    @registry.rule("first", "lint", Severity.ERROR, "one")
    @registry.rule("second", "lint", Severity.WARNING, "two")
    def check() -> None: ...

    @registry.rule("third", "breaking", Severity.INFO, "three", stage=True)
    def stage() -> None: ...

    assert [known.id for known in registry.rules()] == ["first", "second", "third"]
    assert registry.checks("lint") == (check,)
    assert registry.checks("breaking") == ()
    assert registry["third"].check is stage
    with pytest.raises(ValueError, match="registered twice"):
        registry.rule("first", "lint", Severity.ERROR, "again")(stage)
    with pytest.raises(ValueError, match="kebab-case"):
        registry.rule("Not_Kebab", "lint", Severity.ERROR, "bad")(stage)
    with pytest.raises(KeyError):
        registry["fourth"]
