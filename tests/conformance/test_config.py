"""Configuration: pyproject.toml or contracts.yaml, rules on/off, severities, ignores with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from opsconductor_conformance import Config, ConfigError, load_config
from opsconductor_conformance.cli import CONFIGURABLE_RULES

from tests.conftest import SCHEMAS

from .conftest import CLI, OPENAPI_FIXTURES

BARE_ARRAY = OPENAPI_FIXTURES / "pagination-bare-array.yaml"
NO_ID = OPENAPI_FIXTURES / "operation-id-missing.yaml"
KNOWN = [rule.id for rule in CONFIGURABLE_RULES]
ARRAY_POINTER = "/paths/~1targets/get/responses/200/content/application~1json/schema"


def test_no_configuration_means_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert load_config(start=tmp_path, known_rules=KNOWN) == Config()


def test_pyproject_table_is_found_from_a_subdirectory(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\n\n[tool.opsconductor-contracts.rules]\npagination = "warning"\n'
    )
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    run = cli("validate", BARE_ARRAY, "--format", "json")
    assert run.code == 0
    assert [(f["rule"], f["severity"]) for f in run.json()["findings"]] == [
        ("pagination", "warning")
    ]
    assert cli("validate", BARE_ARRAY, "--no-config").code == 1


def test_pyproject_without_the_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "svc"\n')
    (tmp_path / ".git").mkdir()
    assert load_config(start=tmp_path, known_rules=KNOWN) == Config()


def test_contracts_yaml_rules_off_and_severity(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "contracts.yaml").write_text("rules:\n  operation-id: off\n  pagination: info\n")
    run = cli("validate", NO_ID, BARE_ARRAY, "--format", "json")
    assert run.code == 0
    assert [(f["rule"], f["severity"]) for f in run.json()["findings"]] == [("pagination", "info")]


def test_ignore_scoped_to_a_pointer_with_a_reason(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "contracts.yaml").write_text(
        "ignore:\n"
        "  - rule: pagination\n"
        "    pointer: /paths/~1targets/get\n"
        "    reason: legacy list endpoint, paged in 2.0\n"
    )
    run = cli("validate", BARE_ARRAY, "--format", "json")
    assert run.code == 0
    assert run.json()["findings"] == []
    assert run.json()["summary"]["ignored"] == 1


@pytest.mark.parametrize(
    ("pointer", "service", "ignored"),
    [
        ("/paths/~1targets/get", None, True),
        (ARRAY_POINTER, None, True),
        ("/paths/~1targets/ge", None, False),
        ("/paths/~1targets/get", "another-service", False),
        ("/paths/~1targets/get", "targets-service", True),
    ],
)
def test_ignore_matching(
    cli: CLI, tmp_path: Path, pointer: str, service: str | None, ignored: bool
) -> None:
    entry = f"  - rule: '*'\n    pointer: '{pointer}'\n    reason: accepted\n"
    if service:
        entry += f"    service: {service}\n"
    (tmp_path / "contracts.yaml").write_text("ignore:\n" + entry)
    assert cli("validate", BARE_ARRAY).code == (0 if ignored else 1)


def test_strict_in_the_configuration(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "contracts.yaml").write_text("strict: true\n")
    assert cli("validate", NO_ID).code == 1


def test_explicit_config_path(cli: CLI, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text("rules:\n  pagination: off\n")
    assert cli("validate", BARE_ARRAY, "--config", config).code == 0


def test_config_applies_to_breaking(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "contracts.yaml").write_text("rules:\n  version-bump: off\n")
    assert cli("breaking", "--against-dir", SCHEMAS, "--schemas", SCHEMAS).code == 0


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("rules:\n  no-such-rule: off\n", "unknown rule 'no-such-rule'"),
        ("rules:\n  pagination: loud\n", "'loud' is not off, on, error, warning or info"),
        ("ignore:\n  - rule: pagination\n    pointer: /paths\n", "a reason is required"),
        (
            "ignore:\n  - rule: pagination\n    pointer: paths\n    reason: x\n",
            "pointer must be a JSON pointer",
        ),
        ("ignore:\n  - {rule: nope, pointer: /x, reason: y}\n", "unknown rule 'nope'"),
        ("ignore: {rule: pagination}\n", "ignore must be a list"),
        ("rulez: {}\n", "unknown key(s) ['rulez']"),
        ("strict: maybe\n", "strict must be true or false"),
        ("- a list\n", "the configuration must be a mapping"),
        ("rules: [\n", "invalid YAML"),
    ],
)
def test_invalid_configuration_is_a_usage_error(
    cli: CLI, tmp_path: Path, text: str, phrase: str
) -> None:
    (tmp_path / "contracts.yaml").write_text(text)
    run = cli("validate", BARE_ARRAY)
    assert run.code == 2
    assert run.err.count("\n") == 1
    assert phrase in run.err
    assert "contracts.yaml" in run.err


def test_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.opsconductor-contracts\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(start=tmp_path, known_rules=KNOWN)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.yaml", known_rules=KNOWN)


def test_rules_command_lists_every_rule(cli: CLI) -> None:
    run = cli("rules")
    assert run.code == 0
    for rule in CONFIGURABLE_RULES:
        assert rule.id in run.out
