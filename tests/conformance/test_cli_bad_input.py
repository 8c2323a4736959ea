"""Bad input: one clear line on stderr and exit code 2, never a traceback; nothing hangs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CLI, FIXTURES, Run

BAD = FIXTURES / "bad"

# file name -> a phrase the one-line reason contains
REASONS = {
    "binary.json": "not UTF-8",
    "broken.yaml": "not valid JSON or YAML at line 4",
    "circular-ref.yaml": "circular $ref",
    "dangling-ref.yaml": "does not resolve",
    "empty.json": "is empty",
    "external-ref.yaml": "no such file other.yaml",
    "not-a-mapping.yaml": "the top level is a list",
    "not-openapi.yaml": "not an OpenAPI 3.0/3.1 document",
    "recursive-alias.yaml": "contains itself",
    "swagger-2.json": "Swagger 2.0 is not supported",
    "truncated.json": "not valid JSON",
    "wrong-types.yaml": "/paths/~1x/get/responses must be a mapping",
}


def _assert_usage_error(run: Run, phrase: str) -> None:
    assert run.code == 2, run.err
    assert run.out == ""
    assert run.err.count("\n") == 1, run.err
    assert run.err.startswith("opsconductor-contracts: ")
    assert "Traceback" not in run.err
    assert phrase in run.err


def test_every_bad_fixture_has_a_reason() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(REASONS)


@pytest.mark.parametrize("name", sorted(REASONS))
def test_bad_documents(cli: CLI, name: str) -> None:
    _assert_usage_error(cli("validate", BAD / name), REASONS[name])


def test_one_bad_source_among_good_ones(cli: CLI) -> None:
    good = FIXTURES / "openapi" / "compliant.yaml"
    _assert_usage_error(cli("validate", good, BAD / "dangling-ref.yaml"), "dangling-ref.yaml")


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        pytest.param(
            "[" * (25 * 2**20) + "]" * (25 * 2**20), "nested too deeply", id="50MB-json-arrays"
        ),
        pytest.param(
            '{"a":' * 2_000_000 + "1" + "}" * 2_000_000, "nested too deeply", id="json-objects"
        ),
        pytest.param(
            "a: " + "{b: " * 100_000 + "1" + "}" * 100_000, "JSON or YAML", id="yaml-flow"
        ),
        pytest.param(
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nx-deep:\n"
            + "".join(f"{' ' * (2 * i + 2)}k:\n" for i in range(300))
            + " " * 602
            + "v\n",
            "nested deeper than",
            id="yaml-block-300-levels",
        ),
    ],
)
def test_deep_nesting(cli: CLI, tmp_path: Path, content: str, phrase: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(content)
    _assert_usage_error(cli("validate", path), phrase)


def test_yaml_alias_bomb(cli: CLI, tmp_path: Path) -> None:
    lines = [
        "openapi: 3.1.0",
        "info: {title: bomb, version: '1'}",
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]",
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    _assert_usage_error(cli("validate", path), "expands to more than")


def test_deep_reference_chain(cli: CLI, tmp_path: Path) -> None:
    # Shallow in the file, but 5,000 components each nesting the next through a property.
    schemas = "".join(
        f"    C{i}: {{type: object, properties: {{next: {{$ref: '#/components/schemas/C{i + 1}'}}}}}}\n"
        for i in range(5000)
    )
    path = tmp_path / "chain.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: chain, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        + schemas
        + "    C5000: {type: object, x-opsconductor-contract: HealthResponse}\n"
        + "    Deep: {x-opsconductor-contract: HealthResponse, allOf: [{$ref: '#/components/schemas/C0'}]}\n"
    )
    _assert_usage_error(cli("validate", path), "too deeply")


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["validate"], "the following arguments are required: SOURCE"),
        (["validate", "missing.yaml"], "no such file"),
        (["validate", "x.yaml", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            ["breaking"],
            "breaking needs OLD NEW, --against REF (a git revision) or --against-dir DIR",
        ),
        (["breaking", "a", "b", "c"], "breaking compares two versions"),
        (["breaking", "--against", "HEAD", "a", "b"], "not both"),
        (["breaking", "nowhere.json", "nowhere2.json"], "nowhere.json"),
        (["validate", "no_such_module_xyz:app"], "No module named 'no_such_module_xyz'"),
        (["lint", "nowhere"], "is not a directory"),
    ],
)
def test_bad_usage(cli: CLI, argv: list[str], phrase: str) -> None:
    _assert_usage_error(cli(*argv), phrase)


def test_help_exits_zero(cli: CLI) -> None:
    run = cli("--help")
    assert run.code == 0
    assert "validate" in run.out


def test_directory_is_not_a_document(cli: CLI, tmp_path: Path) -> None:
    _assert_usage_error(cli("validate", tmp_path), "is a directory")
