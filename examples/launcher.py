"""Start the reference services as real uvicorn processes on loopback (demo, serve, e2e tests).

A service started here gets the caller's environment without what would choose its storage
or settings behind the caller's back: `DATABASE_URL`, `REDIS_URL` and every variable under
a service prefix (`TARGETS_SERVICE_*`, `AUTH_SERVICE_*`, any `<NAME>_SERVICE_*`) are left
out (`isolated_environment`), so what a service uses is what its launcher says, whatever
the shell running `make test` or `make demo` has set.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
AUTH_FACTORY = "examples.auth_service.app:create_app"
TARGETS_FACTORY = "examples.targets_service.app:create_app"
TARGETS_CLIENT_ID = "targets-service"
"""The targets service's own account at the auth service (its owner lookup)."""
NEVER_INHERITED = frozenset({"DATABASE_URL", "REDIS_URL"})
_SERVICE_VARIABLE = re.compile(r"^[A-Z0-9_]+?_SERVICE_", re.I)


def isolated_environment(
    env: Mapping[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default: this process's environment) without storage and service settings
    (see the module docstring), plus `PYTHONPATH` for the examples, plus `env`."""
    base = os.environ if base is None else base
    kept = {
        key: value
        for key, value in base.items()
        if key.upper() not in NEVER_INHERITED and not _SERVICE_VARIABLE.match(key)
    }
    return {**kept, "PYTHONPATH": str(ROOT), **env}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bind_port(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:`port` (0: a free port the OS picks).

    Raises:
        RuntimeError: the port is taken (by another process since it was chosen).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"port {port} on 127.0.0.1 is taken: {exc.strerror}") from exc
    return sock


@dataclass
class ServiceProcess:
    """One service in its own uvicorn process; its log lines go to `log_path`."""

    name: str
    factory: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90) -> ServiceProcess:
        """Start the process (in `isolated_environment(self.env)`) and wait until
        `/health/live` answers.

        Raises:
            RuntimeError: the process exited or did not answer within `timeout`.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # This process binds the port and hands the listening socket to uvicorn (`--fd`): a
        # port another process took since it was chosen fails here, at once and saying so,
        # and the health poll below can only ever reach this service, never a stranger that
        # won the port while uvicorn was still importing (a loaded machine: seconds).
        listener = bind_port(self.port)
        self.port = listener.getsockname()[1]
        self._log = self.log_path.open("ab")
        command = [
            sys.executable, "-m", "uvicorn", self.factory, "--factory",
            "--fd", str(listener.fileno()),
            "--no-server-header", "--no-access-log", "--log-level", "info",
        ]  # fmt: skip
        environment = isolated_environment(self.env)
        try:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
        finally:
            listener.close()  # the child holds it now: when the child exits, the port closes
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                # Connections queue on the bound socket until uvicorn serves: a request
                # sent early is answered once it is up (a dead child resets it at once).
                if httpx.get(f"{self.url}/health/live", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer on {self.url} within {timeout} s; see {self.log_path}"
        )

    def stop(self, *, timeout: float = 10) -> None:
        """Stop the process gracefully (SIGTERM), forcefully after `timeout`."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_lines(self) -> list[str]:
        return (
            self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        )


def auth_service(
    *,
    port: int,
    workdir: Path,
    passwords: dict[str, str],
    targets_secret: str | None = None,
    extra: dict[str, str] | None = None,
) -> ServiceProcess:
    """The auth service in development mode, its key kept in `workdir`.

    Args:
        targets_secret: give it the targets service's account (`TARGETS_CLIENT_ID`, scope
            `users:read`) with this secret.
    """
    import json  # noqa: PLC0415

    accounts = (
        {TARGETS_CLIENT_ID: {"secrets": [targets_secret], "scopes": ["users:read"]}}
        if targets_secret
        else {}
    )
    env = {
        "AUTH_SERVICE_ENVIRONMENT": "development",
        "AUTH_SERVICE_LOG__FORMAT": "json",
        "AUTH_SERVICE_SIGNING_KEY_FILE": str(workdir / "auth-signing-key.pem"),
        "AUTH_SERVICE_SEED_PASSWORDS": json.dumps(passwords),
        **({"AUTH_SERVICE_SERVICE_ACCOUNTS": json.dumps(accounts)} if accounts else {}),
        **(extra or {}),
    }
    return ServiceProcess("auth-service", AUTH_FACTORY, port, env, workdir / "auth-service.log")


def targets_service(
    *,
    port: int,
    auth_url: str | None,
    workdir: Path,
    mode: str = "local",
    name: str = "targets-service",
    database_url: str | None = None,
    service_secret: str | None = None,
    extra: dict[str, str] | None = None,
) -> ServiceProcess:
    """The targets service, verifying tokens locally (JWKS) or remotely (verify endpoint).

    Args:
        auth_url: the auth service; None: no auth settings given (`extra` has them, such
            as `TARGETS_SERVICE_AUTH__HS256_SECRET`).
        database_url: PostgreSQL storage; default: in memory.
        service_secret: with `auth_url`, the secret of its own account at the auth service
            (`TARGETS_CLIENT_ID`): the owner lookup calls the auth service as itself.
    """
    auth: dict[str, str] = {}
    if auth_url is not None:
        auth = {"TARGETS_SERVICE_AUTH__MODE": mode}
        if mode == "local":
            auth["TARGETS_SERVICE_AUTH__JWKS_URL"] = f"{auth_url}/.well-known/jwks.json"
        else:
            auth["TARGETS_SERVICE_AUTH__VERIFY_URL"] = f"{auth_url}/auth/verify"
        if service_secret:
            credentials = "TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__"
            auth |= {
                "TARGETS_SERVICE_AUTH_CLIENT__URL": auth_url,
                f"{credentials}TOKEN_URL": f"{auth_url}/auth/token",
                f"{credentials}CLIENT_ID": TARGETS_CLIENT_ID,
                f"{credentials}CLIENT_SECRET": service_secret,
            }
    env = {
        "TARGETS_SERVICE_ENVIRONMENT": "development",
        "TARGETS_SERVICE_LOG__FORMAT": "json",
        **auth,
        **({"TARGETS_SERVICE_DATABASE__DSN": database_url} if database_url else {}),
        **(extra or {}),
    }
    return ServiceProcess(name, TARGETS_FACTORY, port, env, workdir / f"{name}.log")
