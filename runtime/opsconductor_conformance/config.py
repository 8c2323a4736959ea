"""Per-service configuration: rules on or off, severity overrides, and ignores with reasons.

Read from `[tool.opsconductor-contracts]` in a `pyproject.toml` or from a `contracts.yaml`
(the first found in the working directory or its parents, up to the repository root):

```yaml
strict: false                 # fail on warnings too
rules:
  operation-id: off           # off | on | error | warning | info
  documented-errors: error
ignore:
  - rule: pagination          # a rule id, or "*" for every rule
    pointer: /paths/~1legacy~1targets/get   # this pointer and everything under it
    reason: legacy endpoint, removed in 2.0 # required
    service: targets-service  # optional: only in this service's document
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .report import Finding, Severity

__all__ = ["Config", "ConfigError", "Ignore", "load_config"]

CONFIG_FILES = ("contracts.yaml", "contracts.yml", "pyproject.toml")
TOOL_KEY = "opsconductor-contracts"
_SWITCHES: dict[Any, Severity | bool | None] = {
    "off": None,
    False: None,
    "on": True,
    True: True,
    **{severity.value: severity for severity in Severity},
}


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Ignore:
    """Findings of `rule` at `pointer` or below it (in `service`, if given) are ignored."""

    rule: str
    pointer: str
    reason: str
    service: str | None = None

    def matches(self, finding: Finding) -> bool:
        return (
            self.rule in ("*", finding.rule)
            and (self.service is None or self.service == finding.service)
            and (
                not self.pointer
                or finding.pointer == self.pointer
                or finding.pointer.startswith(self.pointer.rstrip("/") + "/")
            )
        )


@dataclass(frozen=True)
class Config:
    """Which rules run, at which severity, and which findings are ignored."""

    rules: Mapping[str, Severity | bool | None] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()
    strict: bool = False
    path: Path | None = None

    def enabled(self, rule: str) -> bool:
        return self.rules.get(rule, True) is not None

    def severity(self, rule: str, default: Severity) -> Severity:
        value = self.rules.get(rule)
        return value if isinstance(value, Severity) else default

    def ignored(self, finding: Finding) -> bool:
        return any(ignore.matches(finding) for ignore in self.ignores)

    @classmethod
    def from_mapping(cls, data: Any, *, known_rules: Iterable[str], origin: str) -> Config:
        """Build a configuration from its parsed form (see the module docstring).

        Raises:
            ConfigError: an unknown key or rule, a bad value, or an ignore without a reason.
        """
        known = set(known_rules)
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{origin}: the configuration must be a mapping")
        unknown = sorted(set(data) - {"rules", "ignore", "strict"})
        if unknown:
            raise ConfigError(f"{origin}: unknown key(s) {unknown}; use rules, ignore, strict")
        strict = data.get("strict", False)
        if not isinstance(strict, bool):
            raise ConfigError(f"{origin}: strict must be true or false")
        return cls(
            _rules(data.get("rules") or {}, known, origin),
            _ignores(data.get("ignore") or [], known, origin),
            strict,
        )


def _rules(data: Any, known: set[str], origin: str) -> dict[str, Severity | bool | None]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: rules must map rule ids to off, on, error, warning or info")
    rules: dict[str, Severity | bool | None] = {}
    for rule, value in data.items():
        if rule not in known:
            raise ConfigError(
                f"{origin}: rules: unknown rule {rule!r}; known: {', '.join(sorted(known))}"
            )
        key = value.lower() if isinstance(value, str) else value
        if key not in _SWITCHES:
            raise ConfigError(
                f"{origin}: rules.{rule}: {value!r} is not off, on, error, warning or info"
            )
        rules[str(rule)] = _SWITCHES[key]
    return rules


def _ignores(data: Any, known: set[str], origin: str) -> tuple[Ignore, ...]:
    if not isinstance(data, list):
        raise ConfigError(f"{origin}: ignore must be a list of {{rule, pointer, reason}} entries")
    ignores = []
    for index, entry in enumerate(data):
        where = f"{origin}: ignore[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be a mapping with rule, pointer and reason")
        extra = sorted(set(entry) - {"rule", "pointer", "reason", "service"})
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {extra}")
        rule, pointer = entry.get("rule"), entry.get("pointer")
        reason, service = entry.get("reason"), entry.get("service")
        if rule != "*" and rule not in known:
            raise ConfigError(f"{where}: unknown rule {rule!r}")
        if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
            raise ConfigError(f"{where}: pointer must be a JSON pointer such as /paths/~1items/get")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: a reason is required: say why this finding is accepted")
        if service is not None and not isinstance(service, str):
            raise ConfigError(f"{where}: service must be a service name")
        ignores.append(Ignore(str(rule), pointer, reason.strip(), service))
    return tuple(ignores)


def _read(path: Path) -> tuple[Any, bool]:
    """(configuration data, whether the file has any) of one candidate file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if path.suffix == ".toml":
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
        return tool.get(TOOL_KEY), TOOL_KEY in tool
    try:
        return yaml.safe_load(text), True
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from exc


def load_config(
    path: Path | str | None = None, *, start: Path | str | None = None, known_rules: Iterable[str]
) -> Config:
    """The configuration in `path`, or the first one found from `start` (default: the cwd) up.

    The search stops at the directory holding `.git`; without any file the defaults apply.

    Raises:
        ConfigError: the file is unreadable or the configuration is invalid.
    """
    known = list(known_rules)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such configuration file")
        data, _ = _read(path)
        return _with_path(Config.from_mapping(data, known_rules=known, origin=str(path)), path)
    directory = Path(start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file():
                data, present = _read(candidate)
                if present:
                    config = Config.from_mapping(data, known_rules=known, origin=str(candidate))
                    return _with_path(config, candidate)
        if (folder / ".git").exists():
            break
    return Config()


def _with_path(config: Config, path: Path) -> Config:
    return Config(config.rules, config.ignores, config.strict, path)
