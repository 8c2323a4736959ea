"""`breaking`: compare two versions of an API, classify each change, judge the version bump.

What is compared (see `api` for how an API is read: a document, a directory, a git revision):

- **Components** by name, whatever file holds them and whether or not an operation uses them.
  FastAPI's split of one model into `Name-Input` and `Name-Output` (or their merge back) is not
  a removal: `Name` is compared with each half, in the half's direction, and a reference to
  one facing a reference to the other is the same reference.
- **Operations** by path and method (a path parameter renamed is the same path): an operation or
  a whole path removed breaks; its parameters by location and name (path parameters by
  position), a removed one or a new required one breaks; the request body (becoming required
  breaks) and the responses by status code (a removed status breaks), each media type (a removed
  one breaks), and every schema in them.

Directions: parameter and request-body schemas are request-side, response schemas
response-side, and a component takes the direction of the operations that use it (both when
used both ways; its own `x-contract-direction` when no operation uses it). The schema differ
(`schemadiff`) classifies every change as it widens or narrows; narrowing breaks a request,
widening breaks a response.

Then the version: breaking changes need a major bump of `info.version` (with one, they are
reported as information); compatible changes suggest a minor bump (additions) or a patch bump
(anything else). A version that is not semantic (`v3`, `unversioned`) skips the judgement, with
an information finding saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .api import Api, ApiFile, OperationAt, api_from_schema_set, path_label
from .normalize import Direction
from .report import Finding, Severity
from .rules import BREAKING, rule
from .schemadiff import SEVERITY, Change, Level, SchemaDiffer, shallow_normalizer
from .schemaset import SchemaSet, escape_pointer_token, parse_semver

__all__ = ["CONTRACTS_SERVICE", "compare_apis", "compare_schema_sets", "schema_dir_label"]

CONTRACTS_SERVICE = "contracts"
"""The service name of `breaking` findings on a directory of schemas."""
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_EMPTY: Mapping[str, Any] = {}
_HALVES = ("-Input", "-Output")


@dataclass(frozen=True)
class _Located:
    """A change and the file (location) it is reported in."""

    location: str
    change: Change


@dataclass
class _Side:
    """One version of the API, with its schemas normalised shallowly (once per file)."""

    api: Api
    normalizers: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    def normalize(self, file: ApiFile, schema: Any) -> Any:
        normalize = self.normalizers.get(file.location)
        if normalize is None:
            normalize = shallow_normalizer(file.document, self.api.component_of)
            self.normalizers[file.location] = normalize
        return normalize(schema)

    @cached_property
    def components(self) -> dict[str, Any]:
        return {
            name: self.normalize(file, schema)
            for name, (file, schema) in self.api.components.items()
        }


def _pointer(name: str) -> str:
    return f"/components/schemas/{escape_pointer_token(name)}"


@rule("component-removed", BREAKING, _E, "A component is gone. Breaking.", stage=True)
@rule("component-added", BREAKING, _I, "A new component. Non-breaking (minor).", stage=True)
@rule(
    "component-split",
    BREAKING,
    _I,
    "FastAPI split a model into Name-Input/Name-Output (or merged them): each half is compared with the other version.",
    stage=True,
)
def _component_change(name: str, *, added: bool) -> Change:
    if added:
        return Change(
            "component-added", "non-breaking", _pointer(name), f"component {name} added", minor=True
        )
    return Change("component-removed", "breaking", _pointer(name), f"component {name} removed")


def _pairs(old: Iterable[str], new: Iterable[str]) -> list[tuple[str, str]]:
    """(old name, new name) of every component compared: same names, then FastAPI splits."""
    old_names, new_names = set(old), set(new)
    pairs = [(name, name) for name in sorted(old_names & new_names)]
    for mine, theirs, flip in ((old_names, new_names, False), (new_names, old_names, True)):
        for name in sorted(mine - theirs):
            halves = [f"{name}{suffix}" for suffix in _HALVES]
            for half in (h for h in halves if h in theirs - mine):
                pairs.append((half, name) if flip else (name, half))
    return pairs


def _component_direction(old: Api, new: Api, old_name: str, new_name: str) -> Direction:
    """Where the operations of either version use the component; for one half of a FastAPI
    split, where that half is used (why FastAPI split it)."""
    if old_name == new_name:
        uses = set(new.uses.get(new_name, ())) | set(old.uses.get(old_name, ()))
    else:
        api, half = (new, new_name) if new_name.endswith(_HALVES) else (old, old_name)
        uses = set(api.uses.get(half, ()))
    if uses:
        return next(iter(uses)) if len(uses) == 1 else "both"
    if old_name != new_name:  # an unused half: FastAPI's suffix says where it is used
        half = new_name if new_name.endswith(_HALVES) else old_name
        return "request" if half.endswith("-Input") else "response"
    return new.declared_direction(new_name)


class _Comparison:
    """Every change from one version of an API to the next."""

    def __init__(self, old: Api, new: Api) -> None:
        self.old, self.new = _Side(old), _Side(new)
        self.pairs = _pairs(old.components, new.components)
        self.aliases = frozenset(pair for pair in self.pairs if pair[0] != pair[1])
        self.changes: list[_Located] = []

    def add(self, location: str, change: Change) -> None:
        self.changes.append(_Located(location, change))

    def diff_schemas(
        self,
        location: str,
        pointer: str,
        direction: Direction,
        old: Any,
        new: Any,
        *,
        label: str,
        expanding: frozenset[str] = frozenset(),
    ) -> None:
        differ = SchemaDiffer(
            self.old.components, self.new.components, direction, aliases=self.aliases
        )
        differ.diff(old, new, "", expanding)
        for change in differ.changes:
            message = f"{label} ({direction}): {change.message}"
            self.add(
                location,
                Change(change.rule, change.level, pointer + change.pointer, message, change.minor),
            )

    def components(self) -> None:
        old, new = self.old.api, self.new.api
        matched_old = {o for o, _ in self.pairs}
        matched_new = {n for _, n in self.pairs}
        for name in sorted(set(old.components) - matched_old):
            self.add(old.components[name][0].location, _component_change(name, added=False))
        for name in sorted(set(new.components) - matched_new):
            self.add(new.components[name][0].location, _component_change(name, added=True))
        for old_name, new_name in self.pairs:
            location = new.components[new_name][0].location
            if old_name != new_name:
                self.add(
                    location,
                    Change(
                        "component-split",
                        "non-breaking",
                        _pointer(new_name),
                        f"component {old_name} is {new_name} now (FastAPI's -Input/-Output split); compared by structure",
                    ),
                )
            direction = _component_direction(old, new, old_name, new_name)
            self.diff_schemas(
                location,
                _pointer(new_name),
                direction,
                self.old.components[old_name],
                self.new.components[new_name],
                label=new_name,
                expanding=frozenset({old_name, new_name}),
            )

    def operations(self) -> None:
        old, new = self.old.api.operations, self.new.api.operations
        old_paths = {key[0] for key in old}
        new_paths = {key[0] for key in new}
        for key in sorted(set(old) - set(new)):
            _operation_gone(self, old[key], whole_path=key[0] not in new_paths)
        for key in sorted(set(new) - set(old)):
            _operation_new(self, new[key], whole_path=key[0] not in old_paths)
        for key in sorted(set(old) & set(new)):
            _OperationPair(self, old[key], new[key]).compare()


@rule(
    "path-removed", BREAKING, _E, "A path is gone with every operation on it. Breaking.", stage=True
)
@rule(
    "operation-removed",
    BREAKING,
    _E,
    "An operation (a method on a path) is gone. Breaking.",
    stage=True,
)
def _operation_gone(comparison: _Comparison, at: OperationAt, *, whole_path: bool) -> None:
    operation = at.operation
    if whole_path:
        change = Change(
            "path-removed",
            "breaking",
            operation.pointer,
            f"{operation.label} removed (the whole path {operation.path} is gone)",
        )
    else:
        change = Change(
            "operation-removed", "breaking", operation.pointer, f"{operation.label} removed"
        )
    comparison.add(at.file.location, change)


@rule("path-added", BREAKING, _I, "A new path. Non-breaking (minor).", stage=True)
@rule(
    "operation-added", BREAKING, _I, "A new operation on a path. Non-breaking (minor).", stage=True
)
def _operation_new(comparison: _Comparison, at: OperationAt, *, whole_path: bool) -> None:
    operation = at.operation
    rule_id = "path-added" if whole_path else "operation-added"
    comparison.add(
        at.file.location,
        Change(rule_id, "non-breaking", operation.pointer, f"{operation.label} added", minor=True),
    )


def _parameters(at: OperationAt) -> dict[tuple[str, str], tuple[str, Mapping[str, Any]]]:
    """An operation's parameters by (location, name); path parameters by their position."""
    positions = {name: index for index, name in enumerate(_path_names(at.operation.path))}
    found = {}
    for pointer, parameter in at.operation.parameters:
        where, name = str(parameter.get("in")), str(parameter.get("name"))
        if where == "path" and name in positions:
            name = f"#{positions[name]}"
        elif where == "header":
            name = name.lower()
        found[(where, name)] = (pointer, parameter)
    return found


def _path_names(path: str) -> list[str]:
    names, rest = [], path
    while "{" in rest and "}" in rest.split("{", 1)[1]:
        inner, rest = rest.split("{", 1)[1].split("}", 1)
        names.append(inner)
    return names


def _content(owner: Mapping[str, Any]) -> Mapping[str, Any]:
    content = owner.get("content")
    return content if isinstance(content, Mapping) else _EMPTY


class _OperationPair:
    """One operation in both versions."""

    def __init__(self, comparison: _Comparison, old: OperationAt, new: OperationAt) -> None:
        self.comparison, self.old, self.new = comparison, old, new
        self.location = new.file.location
        self.label = new.operation.label

    def add(
        self, rule_id: str, level: Level, pointer: str, message: str, *, minor: bool = False
    ) -> None:
        self.comparison.add(
            self.location, Change(rule_id, level, pointer, f"{self.label}: {message}", minor)
        )

    def schema(self, pointer: str, direction: Direction, old: Any, new: Any, what: str) -> None:
        self.comparison.diff_schemas(
            self.location,
            pointer,
            direction,
            self.comparison.old.normalize(self.old.file, old if old is not None else {}),
            self.comparison.new.normalize(self.new.file, new if new is not None else {}),
            label=f"{self.label} {what}",
        )

    def compare(self) -> None:
        self.parameters()
        self.request_body()
        self.responses()

    @rule(
        "parameter-removed",
        BREAKING,
        _E,
        "A parameter is gone. Breaking (callers that send it are refused or ignored).",
        stage=True,
    )
    @rule(
        "parameter-added",
        BREAKING,
        _I,
        "A new optional parameter. Non-breaking (minor).",
        stage=True,
    )
    @rule(
        "required-parameter-added", BREAKING, _E, "A new required parameter. Breaking.", stage=True
    )
    @rule(
        "parameter-made-required",
        BREAKING,
        _E,
        "An optional parameter becomes required. Breaking.",
        stage=True,
    )
    @rule(
        "parameter-made-optional",
        BREAKING,
        _I,
        "A required parameter becomes optional. Non-breaking.",
        stage=True,
    )
    def parameters(self) -> None:
        old, new = _parameters(self.old), _parameters(self.new)
        for key in sorted(set(old) | set(new)):
            where, _ = key
            if key not in new:
                pointer, parameter = old[key]
                name = parameter.get("name")
                self.add(
                    "parameter-removed",
                    "breaking",
                    self.new.operation.pointer,
                    f"{where} parameter {name!r} removed",
                )
                continue
            pointer, parameter = new[key]
            name = parameter.get("name")
            required = parameter.get("required") is True or where == "path"
            if key not in old:
                if required:
                    self.add(
                        "required-parameter-added",
                        "breaking",
                        pointer,
                        f"required {where} parameter {name!r} added",
                    )
                else:
                    self.add(
                        "parameter-added",
                        "non-breaking",
                        pointer,
                        f"optional {where} parameter {name!r} added",
                        minor=True,
                    )
                continue
            _, before = old[key]
            was_required = before.get("required") is True or where == "path"
            if required and not was_required:
                self.add(
                    "parameter-made-required",
                    "breaking",
                    pointer,
                    f"{where} parameter {name!r} is now required",
                )
            elif was_required and not required:
                self.add(
                    "parameter-made-optional",
                    "non-breaking",
                    pointer,
                    f"{where} parameter {name!r} is no longer required",
                )
            if "schema" in before or "schema" in parameter:
                self.schema(
                    f"{pointer}/schema",
                    "request",
                    before.get("schema"),
                    parameter.get("schema"),
                    f"{where} parameter {name!r}",
                )

    @rule(
        "request-body-made-required",
        BREAKING,
        _E,
        "A request body is added as required, or becomes required. Breaking.",
        stage=True,
    )
    @rule(
        "request-body-added",
        BREAKING,
        _I,
        "An optional request body where there was none. Non-breaking (minor).",
        stage=True,
    )
    @rule(
        "media-type-removed",
        BREAKING,
        _E,
        "A request or response media type is gone. Breaking.",
        stage=True,
    )
    @rule(
        "media-type-added",
        BREAKING,
        _I,
        "A new request or response media type. Non-breaking (minor).",
        stage=True,
    )
    def request_body(self) -> None:
        old, new = self.old.request_body, self.new.request_body
        if new is None:
            return  # a body no longer read: callers may still send it
        pointer, body = new
        required = body.get("required") is True
        was_required = old is not None and old[1].get("required") is True
        if required and not was_required:
            self.add(
                "request-body-made-required",
                "breaking",
                pointer,
                "the request body is now required",
            )
        if old is not None:
            self.media(pointer, "request", old[1], body)
        elif not required:
            self.add(
                "request-body-added",
                "non-breaking",
                pointer,
                "an optional request body added",
                minor=True,
            )

    def media(
        self, pointer: str, direction: Direction, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        was, now = _content(old), _content(new)
        what = "request body" if direction == "request" else "response"
        for media_type in sorted(set(was) | set(now)):
            at = f"{pointer}/content/{escape_pointer_token(str(media_type))}"
            if media_type not in now:
                self.add(
                    "media-type-removed",
                    "breaking",
                    pointer,
                    f"{what} media type {media_type} removed",
                )
            elif media_type not in was:
                self.add(
                    "media-type-added",
                    "non-breaking",
                    at,
                    f"{what} media type {media_type} added",
                    minor=True,
                )
            else:
                before, after = was[media_type], now[media_type]
                if (
                    isinstance(before, Mapping)
                    and isinstance(after, Mapping)
                    and ("schema" in before or "schema" in after)
                ):
                    self.schema(
                        f"{at}/schema",
                        direction,
                        before.get("schema"),
                        after.get("schema"),
                        f"{what} {media_type}",
                    )

    @rule(
        "response-removed",
        BREAKING,
        _E,
        "A documented response status is gone. Breaking.",
        stage=True,
    )
    @rule(
        "response-added",
        BREAKING,
        _I,
        "A new documented response status. Non-breaking (minor).",
        stage=True,
    )
    def responses(self) -> None:
        old, new = self.old.operation.responses, self.new.operation.responses
        base = f"{self.new.operation.pointer}/responses"
        for status in sorted(set(old) | set(new)):
            if status not in new:
                self.add("response-removed", "breaking", base, f"response {status} removed")
            elif status not in old:
                pointer, _ = new[status]
                self.add(
                    "response-added",
                    "non-breaking",
                    pointer,
                    f"response {status} added",
                    minor=True,
                )
            else:
                pointer, response = new[status]
                self.media(pointer, "response", old[status][1], response)


def _version(text: str) -> tuple[int, int, int]:
    return parse_semver(text) or (0, 0, 0)


def compare_apis(old: Api, new: Api, *, service: str = CONTRACTS_SERVICE) -> list[Finding]:
    """Every change from `old` to `new` as findings, plus the verdict on `info.version`.

    Args:
        old: the API to compare against (an older version).
        new: the API as it is now.
        service: the service name the findings carry.
    """
    comparison = _Comparison(old, new)
    comparison.components()
    comparison.operations()
    major_bump = (
        parse_semver(old.version) is not None
        and parse_semver(new.version) is not None
        and _version(new.version)[0] > _version(old.version)[0]
    )
    findings = []
    for located in comparison.changes:
        change = located.change
        severity = SEVERITY[change.level]
        message = f"{change.message} [{change.level}]"
        if change.level == "breaking" and major_bump:
            severity = Severity.INFO
            message = f"{change.message} [breaking, allowed by the major bump to {new.version}]"
        findings.append(
            Finding(change.rule, severity, service, change.pointer, message, located.location)
        )
    changes = [located.change for located in comparison.changes]
    findings.extend(_version_findings(changes, old, new, service))
    return findings


def compare_schema_sets(
    old: SchemaSet, new: SchemaSet, *, old_label: str = "", new_label: str = ""
) -> list[Finding]:
    """Every change from one contract schema set to another (see `compare_apis`).

    Args:
        old: the schemas to compare against (an older release).
        new: the schemas as they are now.
        old_label: how to name the old files in locations (default: their paths).
        new_label: how to name the new files in locations (default: their paths).
    """
    return compare_apis(
        api_from_schema_set(old, label=old_label), api_from_schema_set(new, label=new_label)
    )


@rule(
    "version-bump",
    BREAKING,
    _E,
    "Breaking changes need a major bump of info.version; compatible ones get a suggested minor or patch bump; a version that is not semantic skips the judgement.",
    stage=True,
)
def _version_findings(
    changes: list[Change], old_api: Api, new_api: Api, service: str
) -> list[Finding]:
    old, new = old_api.version, new_api.version
    old_version, new_version = parse_semver(old), parse_semver(new)
    breaking = sum(1 for change in changes if change.level == "breaking")

    def finding(severity: Severity, message: str) -> Finding:
        location = new_api.files[0].location
        return Finding("version-bump", severity, service, "/info/version", message, location)

    if (old_version is None or new_version is None) and changes:
        shown = ", ".join(
            f"{side} {value!r}" if value else f"{side}: none (missing, or the files disagree)"
            for side, value in (("old", old), ("new", new))
        )
        return [
            finding(
                Severity.INFO,
                f"info.version is not a semantic version ({shown}): the version bump is not judged",
            )
        ]
    if old_version is None or new_version is None:
        return []
    if new_version < old_version:
        return [finding(Severity.ERROR, f"info.version went backwards from {old} to {new}")]
    if breaking and new_version[0] <= old_version[0]:
        return [
            finding(
                Severity.ERROR,
                f"{breaking} breaking change(s) need a major version bump: set info.version to {old_version[0] + 1}.0.0 (it is {new})",
            )
        ]
    if changes and new_version == old_version:
        if any(change.minor for change in changes):
            suggested, kind = (
                f"{old_version[0]}.{old_version[1] + 1}.0",
                "minor: compatible additions",
            )
        else:
            suggested, kind = (
                f"{old_version[0]}.{old_version[1]}.{old_version[2] + 1}",
                "patch: compatible changes",
            )
        return [
            finding(Severity.INFO, f"compatible changes: bump info.version to {suggested} ({kind})")
        ]
    return []


schema_dir_label = path_label
"""How a schema directory is named in findings: relative to the working directory if inside."""
