"""Read a schema directory as it was at a git revision, for `breaking --against <ref>`."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from ._schemaset import SCHEMA_SUFFIXES, SchemaSet, SchemaSetError, load_schema_dir
from ._source import SourceError

__all__ = ["load_schemas_at_ref"]

GIT_TIMEOUT = 60.0


def _git(cwd: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("git", "git is not installed (use --against-dir instead)") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError("git", f"git {args[0]} timed out after {GIT_TIMEOUT:g} s") from exc
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(
            f"git {args[0]}", reason[-1] if reason else f"exit code {result.returncode}"
        )
    return result.stdout


def load_schemas_at_ref(directory: Path | str, ref: str) -> SchemaSet:
    """Load the schema directory `directory` as committed at git revision `ref`.

    Raises:
        SourceError: not in a git repository, unknown revision, no schemas there, or the old
            schemas do not load.
    """
    directory = Path(directory).resolve()
    if ref.startswith("-"):
        raise SourceError(ref, "not a git revision")
    try:
        top = Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())
    except SourceError as exc:
        raise SourceError(
            str(directory), f"not inside a git repository ({exc.reason}); use --against-dir"
        ) from exc
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except SourceError as exc:
        raise SourceError(ref, "unknown git revision") from exc
    relative = PurePosixPath(directory.relative_to(top.resolve()).as_posix())
    prefix = "" if str(relative) == "." else f"{relative}/"
    listing = _git(top, "ls-tree", "-z", "--name-only", ref, "--", prefix or ".")
    names = [n for n in listing.decode().split("\0") if n and n.endswith(SCHEMA_SUFFIXES)]
    if not names:
        raise SourceError(f"{ref}:{prefix or '.'}", "has no *.yaml schema files at that revision")
    with tempfile.TemporaryDirectory(prefix="opsconductor-contracts-") as tmp:
        for name in names:
            content = _git(top, "show", f"{ref}:{name}")
            (Path(tmp) / PurePosixPath(name).name).write_bytes(content)
        try:
            schemaset = load_schema_dir(tmp)
        except SchemaSetError as exc:
            first = exc.problems[0]
            raise SourceError(
                f"{ref}:{prefix}{first.file.name}", f"{first.pointer or '/'}: {first.message}"
            ) from exc
    # The documents are parsed: the set stays usable after its temporary directory is gone.
    return schemaset
