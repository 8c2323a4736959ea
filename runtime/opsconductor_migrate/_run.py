"""Running the codemod on sources, files and directories, and what a run reports.

    migrate_paths(paths)          every `.py` file under the paths, as one service:
      ├── collect_files           directories walked (virtualenvs, caches, VCS skipped)
      ├── read_source             bytes -> text (PEP 263 encoding), size limit
      ├── parse                   libcst; a syntax error is an `InputError`, not a traceback
      ├── scan_project            what the rewrites need to know across files
      └── migrate_module          each file: rewritten text, counts, manual steps

Nothing here writes: `FileResult.write()` does, on request.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import io
import os
import re
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from ._project import ManualStep, ProjectInfo, scan_project
from ._rewrite import MigrationCommand, RewriteOutcome
from ._tables import OLD_PACKAGE

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "SKIPPED_DIRECTORIES",
    "FileResult",
    "InputError",
    "MigrationReport",
    "collect_files",
    "decode_source",
    "migrate_module",
    "migrate_paths",
    "migrate_source",
    "needs_migration",
    "parse",
    "read_source",
]

_FORM_FEED_INDENT = re.compile(r"^[ \t]*\x0c[ \t\x0c]*[^\s#]", re.MULTILINE)
DEFAULT_MAX_FILE_BYTES = 1_000_000
"""Larger files are refused: no hand-written service module is a megabyte."""

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
        ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "site-packages",
        "build", "dist",
    }
)  # fmt: skip


class InputError(Exception):
    """A path the codemod cannot work on, with a sentence saying why.

    Args:
        path: the file or directory.
        message: what is wrong and, where it helps, what to do.
        internal: the codemod itself failed (a bug), not the input.
    """

    def __init__(self, path: str, message: str, *, internal: bool = False) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.internal = internal


@dataclass
class FileResult:
    """One file's migration: the text before and after, what was rewritten, what is left."""

    path: str
    source: str
    migrated: str
    rewrites: Counter[str] = field(default_factory=Counter)
    manual: list[ManualStep] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def changed(self) -> bool:
        return self.migrated != self.source

    def diff(self) -> str:
        """The change as a unified diff (`a/path`, `b/path`), empty when nothing changed."""
        if not self.changed:
            return ""
        lines = difflib.unified_diff(
            _lines(self.source), _lines(self.migrated), f"a/{self.path}", f"b/{self.path}"
        )
        return "".join(lines)

    def lines_changed(self) -> tuple[int, int]:
        """Lines added and removed."""
        added = removed = 0
        for line in self.diff().splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
        return added, removed

    def write(self) -> None:
        """Write the migrated text back, in the file's own encoding."""
        if self.changed:
            Path(self.path).write_bytes(self.migrated.encode(self.encoding))


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


@dataclass
class MigrationReport:
    """A run over files: their results, and the inputs that could not be migrated."""

    files: list[FileResult] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    @property
    def manual(self) -> list[ManualStep]:
        return sorted(step for result in self.files for step in result.manual)

    @property
    def rewrites(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for result in self.files:
            total.update(result.rewrites)
        return total

    def lines_changed(self) -> tuple[int, int]:
        added = removed = 0
        for result in self.files:
            plus, minus = result.lines_changed()
            added, removed = added + plus, removed + minus
        return added, removed


def collect_files(
    paths: Sequence[str | os.PathLike[str]], *, exclude: Sequence[str] = ()
) -> tuple[list[Path], list[InputError]]:
    """The `.py` files under `paths` (files as given, directories walked), and the paths that
    are missing or hold no Python. `exclude` holds glob patterns matched against each file's
    and directory's path and name."""
    files: list[Path] = []
    errors: list[InputError] = []

    def excluded(path: Path) -> bool:
        return any(
            fnmatch.fnmatch(str(path), pattern) or fnmatch.fnmatch(path.name, pattern)
            for pattern in exclude
        )

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if not excluded(path):
                files.append(path)
            continue
        if not path.is_dir():
            errors.append(InputError(str(path), "no such file or directory"))
            continue
        found: list[Path] = []
        for directory, subdirectories, names in os.walk(path):
            here = Path(directory)
            subdirectories[:] = sorted(
                d for d in subdirectories if d not in SKIPPED_DIRECTORIES and not excluded(here / d)
            )
            found.extend(
                here / name
                for name in sorted(names)
                if name.endswith(".py") and not excluded(here / name)
            )
        if not found:
            errors.append(InputError(str(path), "the directory holds no Python files (*.py)"))
        files.extend(found)
    return list(dict.fromkeys(files)), errors


def read_source(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> tuple[str, str]:
    """The text of a Python file and its encoding (PEP 263: UTF-8 unless it declares one).

    Raises:
        InputError: unreadable, larger than `max_bytes`, or not text in its encoding.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                str(path),
                f"the file is {size} bytes, over the limit of {max_bytes} "
                "(raise it with --max-file-size if this really is hand-written code)",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read it ({exc.strerror or exc})") from exc
    return decode_source(str(path), data)


def decode_source(path: str, data: bytes) -> tuple[str, str]:
    """`data` as text, in the encoding its coding cookie declares (UTF-8 by default).

    Raises:
        InputError: an unknown encoding, or bytes that are not text in it.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "unknown encoding" in str(exc.msg) or "encoding problem" in str(exc.msg):
            raise InputError(path, f"its encoding declaration is invalid ({exc.msg})") from exc
        encoding = "utf-8"  # no declaration, and the first lines are not UTF-8: said below
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not valid {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "Python source is UTF-8 unless it declares another encoding in a coding comment",
        ) from exc
    if "\x00" in text:
        raise InputError(path, "the file contains NUL bytes: it is not Python source")
    return text.removeprefix("\ufeff") if encoding == "utf-8-sig" else text, encoding


def parse(path: str, text: str) -> cst.Module:
    """`text` as a libcst module.

    Raises:
        InputError: it is not valid Python.
    """
    try:
        # Python's own parser is the judge of what is Python, and says it best.
        ast.parse(text, path)
    except SyntaxError as exc:
        raise InputError(
            path, f"line {exc.lineno}, column {exc.offset}: not valid Python ({exc.msg})"
        ) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(path, f"not valid Python ({exc})") from exc
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        raise InputError(
            path, f"line {exc.raw_line}, column {exc.raw_column}: not valid Python ({first})"
        ) from exc
    except RecursionError as exc:
        raise InputError(path, "the code is nested too deeply to parse") from exc
    if module.default_indent.strip(" \t") or _FORM_FEED_INDENT.search(text):
        # libcst cannot write such a module back unchanged (it drops or rejects the form feed).
        raise InputError(
            path, "its indentation contains form feeds: indent with spaces, then run it again"
        )
    return module


class _OldImports(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Import(self, node: cst.Import) -> None:
        self.found |= any(_old(cst.Module([]).code_for_node(a.name)) for a in node.names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            self.found |= _old(cst.Module([]).code_for_node(node.module))


def _old(module: str) -> bool:
    return module == OLD_PACKAGE or module.startswith(OLD_PACKAGE + ".")


def needs_migration(module: cst.Module, text: str) -> bool:
    """Whether the module imports the old package or uses HTTPException at all."""
    if "HTTPException" in text:
        return True
    visitor = _OldImports()
    module.visit(visitor)
    return visitor.found


def _module_name(path: str) -> tuple[str, str]:
    """The dotted module name of the file at `path` (its package found by `__init__.py`
    files), which libcst needs to resolve relative imports; a stand-in for a loose string."""
    file = Path(path)
    if not file.is_file():
        return "package.module", "package"
    parts = [file.stem] if file.stem != "__init__" else []
    directory = file.resolve().parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    if len(parts) < 2:
        parts.insert(0, "package")
    return ".".join(parts), ".".join(parts[:-1])


def migrate_module(
    path: str, module: cst.Module, text: str, project: ProjectInfo, *, encoding: str = "utf-8"
) -> FileResult:
    """Migrate one parsed module (see `migrate_source`).

    Raises:
        InputError: the codemod failed on it (internal); the file is left as it is.
    """
    result = FileResult(path, text, text, encoding=encoding)
    if not needs_migration(module, text):
        return result
    outcome = RewriteOutcome()
    module_name, package = _module_name(path)
    context = CodemodContext(filename=path, full_module_name=module_name, full_package_name=package)
    command = MigrationCommand(context, path=path, project=project, outcome=outcome)
    try:
        migrated = command.transform_module(module)
    except RecursionError as exc:
        raise InputError(path, "the code is nested too deeply to migrate") from exc
    except Exception as exc:
        raise InputError(
            path,
            f"the codemod failed on this file ({type(exc).__name__}: {exc}); it is left as it "
            "is: please report it with the file",
            internal=True,
        ) from exc
    result.migrated = migrated.code
    result.rewrites = outcome.rewrites
    result.manual = sorted(outcome.manual)
    return result


def migrate_source(
    text: str, *, path: str = "<string>", project: ProjectInfo | None = None
) -> FileResult:
    """Migrate the Python source `text` on its own (or as part of `project`).

    Raises:
        InputError: `text` is not valid Python, or the codemod failed on it.
    """
    module = parse(path, text)
    return migrate_module(path, module, text, project or scan_project([module]))


def migrate_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    exclude: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> MigrationReport:
    """Migrate every Python file under `paths` as one service (see the module docstring).
    Files that cannot be read or parsed are reported in `errors`; the others still migrate."""
    files, errors = collect_files(paths, exclude=exclude)
    report = MigrationReport(errors=errors)
    parsed: list[tuple[str, cst.Module, str, str]] = []
    for file in files:
        try:
            text, encoding = read_source(file, max_bytes=max_bytes)
            parsed.append((str(file), parse(str(file), text), text, encoding))
        except InputError as error:
            report.errors.append(error)
    project = scan_project(module for _, module, _, _ in parsed)
    for path, module, text, encoding in parsed:
        try:
            report.files.append(migrate_module(path, module, text, project, encoding=encoding))
        except InputError as error:
            report.errors.append(error)
    return report
