"""Scaffolding a service: where the library came from, and copier on the template."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "SOURCE_ENV_VAR",
    "TEMPLATE_DIR",
    "ScaffoldError",
    "library_source",
    "new_service",
    "template_location",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
SOURCE_ENV_VAR = "OPSCONDUCTOR_SHARED_SOURCE"
_DISTRIBUTION = "opsconductor-shared"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


class ScaffoldError(Exception):
    """The service cannot be scaffolded; the message says why and what to do."""


def library_source(environ: Mapping[str, str] = os.environ) -> str:
    """Where a new service installs opsconductor-shared from: a path, a git URL or a wheel.

    `OPSCONDUCTOR_SHARED_SOURCE` wins; otherwise how this library was installed (its PEP 610
    `direct_url.json`): the checkout's directory, `git+URL@commit`, or the wheel's path. A
    library installed from an index gives its name.
    """
    if source := environ.get(SOURCE_ENV_VAR, "").strip():
        return source
    try:
        text = importlib.metadata.distribution(_DISTRIBUTION).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        text = None
    if not text:
        return _DISTRIBUTION
    info: dict[str, Any] = json.loads(text)
    url = str(info["url"])
    if vcs := info.get("vcs_info"):
        revision = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"{vcs['vcs']}+{url}" + (f"@{revision}" if revision else "")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return unquote(parts.path)
    return url


def template_location(source: str) -> tuple[str, str | None]:
    """Where copier takes the template from, and at which git revision.

    The library's own repository when `source` is one (a checkout's directory, or a git URL
    with an optional `@revision`): its root `copier.yml` points at the template, and copier
    records the commit, so the service can later `copier update`. Otherwise (a wheel, an
    index) the template inside the installed package, which `copier recopy` can reapply.
    """
    if source.startswith("git+"):
        head, at, revision = source.rpartition("@")
        if at and "/" not in revision and "/" in head:
            return head, revision
        return source, None
    path = Path(source).expanduser()
    if (path / "copier.yml").is_file() and (path / ".git").exists():
        return str(path.resolve()), None
    return str(TEMPLATE_DIR), None


def new_service(
    name: str,
    destination: Path,
    *,
    source: str | None = None,
    answers: Mapping[str, Any] | None = None,
    interactive: bool = False,
) -> Path:
    """Make a new service repository from the template (see the package docstring).

    Args:
        name: the service's short name, such as `jobs` (becomes `jobs-service`).
        destination: the directory to create; it must not exist or be empty.
        source: where its `make test` installs the library; default: `library_source()`.
        answers: more answers to the template's questions (`resource`, `port`, ...).
        interactive: ask the questions not answered; otherwise take every default.

    Raises:
        ScaffoldError: a bad name, a destination in use, copier missing, or a bad answer.
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"{name!r} is not a service name: use lower-case letters, digits and hyphens, "
            "starting with a letter (such as 'jobs'); '-service' is added"
        )
    if name.endswith("-service"):
        raise ScaffoldError(f"leave '-service' out of the name: {name.removesuffix('-service')!r}")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ScaffoldError(f"{destination} already exists and is not empty; choose another")
    try:
        import copier  # noqa: PLC0415 - the `scaffold` extra
        from plumbum import ProcessExecutionError  # noqa: PLC0415 - copier runs git through it
    except ImportError as exc:
        raise ScaffoldError(
            "the scaffold needs copier: pip install 'opsconductor-shared[scaffold]'"
        ) from exc
    source = source or library_source()
    template, revision = template_location(source)
    data = {"name": name, "shared_source": source, **(answers or {})}
    try:
        with warnings.catch_warnings():
            # A checkout with uncommitted changes is copied as it is; copier says so.
            warnings.simplefilter("ignore", copier.errors.DirtyLocalWarning)
            copier.run_copy(
                template,
                str(destination),
                data=data,
                vcs_ref=revision,
                defaults=not interactive,
                quiet=True,
                unsafe=False,
            )
    except ValueError as exc:  # copier's validation errors (a bad answer)
        raise ScaffoldError(f"a bad answer: {exc}") from exc
    except ProcessExecutionError as exc:  # git could not fetch the template
        reason = next((line for line in str(exc.stderr).splitlines() if "fatal" in line), "")
        raise ScaffoldError(
            f"cannot fetch the template from {template}: {reason or 'git failed'}; "
            f"give another --source (or {SOURCE_ENV_VAR})"
        ) from exc
    return destination
