"""The schema set: JSON pointers, YAML loading, staged (and trusted) loading, where the shipped
schemas are, and that importing it needs neither the contracts package nor the runtime."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_conformance import SchemaSetError, load_schema_dir, shared_schema_dir
from opsconductor_conformance.schemaset import (
    escape_pointer_token,
    join_pointer,
    load_yaml_file,
    parse_semver,
    resolve_pointer,
    unescape_pointer_token,
)

from tests.conftest import ROOT, SCHEMAS

TOKENS = st.text(alphabet=st.sampled_from("ab~/01%"), max_size=8)


@given(TOKENS)
def test_pointer_tokens_round_trip(token: str) -> None:
    escaped = escape_pointer_token(token)
    assert "/" not in escaped
    assert unescape_pointer_token(escaped) == token


# "/" alone is read as the whole document (as `#/` is written for it), not as RFC 6901's key "".
@given(
    st.lists(TOKENS.filter(lambda t: "%" not in t), min_size=1, max_size=4).filter(
        lambda p: p != [""]
    )
)
def test_a_joined_pointer_resolves_to_its_value(path: list[str]) -> None:
    document: Any = "leaf"
    for key in reversed(path):
        document = {key: document, "other": 1}
    assert resolve_pointer(document, join_pointer(path)) == "leaf"


@pytest.mark.parametrize(("pointer", "found"), [("/a~1b/0", 1), ("/~0", 2), ("/a%2Fc", 3)])
def test_resolve_pointer(pointer: str, found: Any) -> None:
    document = {"a/b": [1], "~": 2, "a/c": 3}
    assert resolve_pointer(document, pointer) == found
    assert resolve_pointer(document, "") is document


@pytest.mark.parametrize("pointer", ["/missing", "/a~1b/7", "no-slash"])
def test_unresolvable_pointers(pointer: str) -> None:
    with pytest.raises(KeyError):
        resolve_pointer({"a/b": [1]}, pointer)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1.4.2", (1, 4, 2)), ("2.0.0-rc.1", (2, 0, 0)), ("1.0", None), ("01.0.0", None), (3, None)],
)
def test_parse_semver(text: object, parsed: tuple[int, int, int] | None) -> None:
    assert parse_semver(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "openapi: 3.1.0\ninfo: [\n",
            "invalid YAML at line 3, column 1: expected the node content, but found '<stream end>'",
        ),
        (
            "status:\n  - [unclosed",
            "invalid YAML at line 2, column 14: expected ',' or ']', but got '<stream end>'",
        ),
        ("a: b\nc: 1\na: 2\n", "invalid YAML at line 3, column 1: duplicate key 'a'"),
    ],
)
def test_yaml_errors_keep_the_clearer_messages(tmp_path: Path, text: str, message: str) -> None:
    # libyaml parses, but reports errors in other words: the message is the pure-Python one.
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(SchemaSetError) as caught:
        load_yaml_file(path)
    assert [p.message for p in caught.value.problems] == [message]


def test_yaml_files_parse_as_pyyaml_parses_them() -> None:
    for path in sorted(SCHEMAS.glob("*.yaml")):
        assert load_yaml_file(path) == yaml.safe_load(path.read_text()), path.name


def _with_invalid_schema(tmp_path: Path) -> Path:
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, directory)
    path = directory / "health.yaml"
    document = yaml.safe_load(path.read_text())
    document["components"]["schemas"]["HealthStatus"]["type"] = 12
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


def test_the_meta_stage_finds_an_invalid_schema(tmp_path: Path) -> None:
    with pytest.raises(SchemaSetError) as caught:
        load_schema_dir(_with_invalid_schema(tmp_path))
    assert any("HealthStatus" in p.pointer for p in caught.value.problems)
    assert any("not a valid JSON Schema" in p.message for p in caught.value.problems)


def test_a_trusted_directory_skips_only_the_meta_stage(tmp_path: Path) -> None:
    assert load_schema_dir(_with_invalid_schema(tmp_path), trusted=True).version
    broken = tmp_path / "versions"
    shutil.copytree(SCHEMAS, broken)
    (broken / "audit.yaml").write_text(
        (broken / "audit.yaml").read_text().replace("version: 1.0.0", "version: 1.0.1", 1)
    )
    with pytest.raises(SchemaSetError, match="differs from"):
        load_schema_dir(broken, trusted=True)


def _python(code: str, *, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env_path = [str(path)] if path else []
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {env_path!r}\n{code}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_importing_the_schema_set_needs_neither_contracts_nor_runtime(tmp_path: Path) -> None:
    # `make generate` loads the schema set while the generated package may be broken.
    broken = tmp_path / "opsconductor_contracts"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('the generated package is broken')\n")
    run = _python(
        f"from opsconductor_conformance.schemaset import load_schema_dir\n"
        f"print(load_schema_dir({str(SCHEMAS)!r}).version)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opsconductor_contracts', 'opsconductor_shared', 'fastapi'))))\n",
        path=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1] == "[]"


def test_the_shipped_schemas_of_this_checkout_are_its_schemas_directory() -> None:
    # An editable install imports opsconductor_contracts from generated/, which has no copy.
    assert shared_schema_dir() == SCHEMAS


def _installed_contracts(site: Path, *, with_schemas: bool) -> Path:
    package = site / "opsconductor_contracts"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    if with_schemas:
        shutil.copytree(SCHEMAS, package / "schemas")
    return package


def test_the_shipped_schemas_of_an_installed_wheel(tmp_path: Path) -> None:
    package = _installed_contracts(tmp_path / "site-packages", with_schemas=True)
    run = _python(
        "from opsconductor_conformance import shared_schema_dir\nprint(shared_schema_dir())",
        path=tmp_path / "site-packages",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(package / "schemas")


def test_an_install_without_schemas_is_an_error(tmp_path: Path) -> None:
    # Installed outside a checkout: no falling back to some schemas/ directory nearby.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    _installed_contracts(tmp_path / "lib", with_schemas=False)
    run = _python(
        "from opsconductor_conformance import shared_schema_dir\nshared_schema_dir()",
        path=tmp_path / "lib",
    )
    assert run.returncode == 1
    assert "FileNotFoundError: no schemas in" in run.stderr
    assert "reinstall opsconductor-shared" in run.stderr
