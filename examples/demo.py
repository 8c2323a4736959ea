"""`make demo` and `make serve`: both reference services on loopback, and a walkthrough.

python -m examples.demo            start both, walk through, validate, stop; exit 0 on success;
                                   the services' logs are kept in the folder it prints
python -m examples.demo --serve [--ports AUTH,TARGETS]
                                   start both and keep them running until Ctrl-C; ports
                                   8001,8002 unless given (`make serve PORTS=9001,9002`), and a
                                   port that is taken is replaced by a free one, said so
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .launcher import ROOT, ServiceProcess, auth_service, free_port, targets_service

DEMO_DIR = ROOT / ".demo"
DEFAULT_PORTS = (8001, 8002)


class WalkthroughError(Exception):
    """A step of the walkthrough did not go as it should."""


def _show(title: str, response: httpx.Response, *, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    body: Any = response.json() if response.content else {}
    shown = {k: body.get(k) for k in keys} if keys and isinstance(body, dict) else body
    print(
        f"\n## {title}\n   {response.request.method} {response.request.url.path} -> {response.status_code} {response.headers.get('content-type', '')}"
    )
    print(f"   X-Request-ID: {response.headers.get('x-request-id')}")
    text = json.dumps(shown, indent=2, default=str)
    print("   " + text.replace("\n", "\n   ")[:1600])
    return body if isinstance(body, dict) else {"items": body}


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise WalkthroughError(message)


def walkthrough(auth_url: str, targets_url: str, passwords: dict[str, str]) -> None:
    """Login, a paginated list, a create, errors in the envelope, a forbidden write, a call
    between the services with the targets service's own identity, health."""
    with httpx.Client(timeout=10) as http:
        login = http.post(
            f"{auth_url}/auth/login",
            json={"username": "operator", "password": passwords["operator"]},
        )
        tokens = _show(
            "1. Log in as operator (auth service)",
            login,
            keys=("token_type", "expires_in", "refresh_expires_in"),
        )
        _expect(login.status_code == 200, "login failed")
        operator = {"Authorization": f"Bearer {tokens['access_token']}"}

        created_ids = []
        for index, name in enumerate(("web-01", "web-02", "db-01")):
            created = http.post(
                f"{targets_url}/targets",
                headers=operator,
                json={
                    "name": name,
                    "hostname": f"{name}.example.com",
                    "os_type": "linux",
                    "tags": ["demo"],
                },
            )
            if index == 0:
                _show(
                    "2. Create a target (token verified locally against the auth service's JWKS)",
                    created,
                    keys=("id", "name", "lock_version", "created_by"),
                )
            _expect(created.status_code == 201, f"create {name} failed: {created.text}")
            created_ids.append(created.json()["id"])

        page = http.get(
            f"{targets_url}/targets", headers=operator, params={"per_page": 2, "sort": "name"}
        )
        body = _show("3. A paginated list: the shared page shape", page)
        _expect(page.status_code == 200 and body["pagination"]["total_items"] == 3, "list failed")
        following = http.get(
            f"{targets_url}/targets",
            headers=operator,
            params={
                "per_page": 2,
                "sort": "name",
                "page_token": body["pagination"]["next_page_token"],
            },
        )
        _show("   ...and the next page by cursor", following, keys=("pagination",))

        missing = http.get(f"{targets_url}/targets/999", headers=operator)
        problem = _show("4. A 404 in the shared envelope (application/problem+json)", missing)
        _expect(
            missing.status_code == 404 and problem["request_id"] == missing.headers["x-request-id"],
            "404 is not the envelope",
        )

        invalid = http.post(
            f"{targets_url}/targets",
            headers=operator,
            json={"name": "bad name!", "hostname": "x", "os_type": "solaris", "port": 70000},
        )
        problem = _show("5. A 422: every problem as a JSON pointer, no input echoed", invalid)
        _expect(
            invalid.status_code == 422 and len(problem["errors"]) == 3, "422 is not the envelope"
        )

        viewer_login = http.post(
            f"{auth_url}/auth/login", json={"username": "viewer", "password": passwords["viewer"]}
        )
        viewer = {"Authorization": f"Bearer {viewer_login.json()['access_token']}"}
        forbidden = http.post(
            f"{targets_url}/targets",
            headers=viewer,
            json={"name": "nope", "hostname": "nope.example.com", "os_type": "linux"},
        )
        _show(
            "6. A viewer may read but not write: 403",
            forbidden,
            keys=("status", "code", "detail", "request_id"),
        )
        _expect(forbidden.status_code == 403, "viewer could write")

        owner = http.get(f"{targets_url}/targets/{created_ids[0]}/owner", headers=viewer)
        found = _show(
            "7. Who created web-01: the targets service asks the auth service as itself "
            "(client credentials token, scope users:read)",
            owner,
        )
        _expect(
            owner.status_code == 200 and found["username"] == "operator",
            f"owner lookup failed: {owner.text}",
        )
        as_user = http.get(f"{auth_url}/auth/users/{found['user_id']}", headers=viewer)
        _show(
            "   ...the same lookup with a user's token is refused: only the service may",
            as_user,
            keys=("status", "code", "detail"),
        )
        _expect(as_user.status_code == 403, "a user could use the service-only lookup")

        health = http.get(f"{targets_url}/health")
        _show("8. Health report with its dependency checks", health)
        _expect(health.status_code == 200, "targets service is not healthy")


def validate(urls: list[str]) -> None:
    print("\n## 9. Validate both services' OpenAPI documents against the contracts")
    command = [
        sys.executable,
        "-m",
        "opsconductor_conformance",
        "validate",
        "--strict",
        *(f"{url}/openapi.json" for url in urls),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    print("   " + (result.stdout + result.stderr).strip().replace("\n", "\n   "))
    _expect(result.returncode == 0, "the OpenAPI documents do not conform")


def start(
    workdir: Path, *, auth_port: int, targets_port: int, passwords: dict[str, str]
) -> tuple[ServiceProcess, ServiceProcess]:
    # The targets service's own account at the auth service, for its owner lookup.
    service_secret = secrets.token_urlsafe(24)
    auth = auth_service(
        port=auth_port, workdir=workdir, passwords=passwords, targets_secret=service_secret
    ).start()
    targets = targets_service(
        port=targets_port, auth_url=auth.url, workdir=workdir, service_secret=service_secret
    ).start()
    return auth, targets


def _run(
    workdir: Path,
    run: Callable[[ServiceProcess, ServiceProcess, dict[str, str]], None],
    *,
    auth_port: int,
    targets_port: int,
) -> int:
    passwords = {user: secrets.token_urlsafe(12) for user in ("admin", "operator", "viewer")}
    services: tuple[ServiceProcess, ...] = ()
    try:
        services = start(
            workdir, auth_port=auth_port, targets_port=targets_port, passwords=passwords
        )
        run(*services, passwords)
    except (WalkthroughError, RuntimeError, httpx.HTTPError) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        for service in services:
            print(f"--- last lines of {service.log_path}", file=sys.stderr)
            print("\n".join(service.log_lines()[-20:]), file=sys.stderr)
        return 1
    finally:
        for service in reversed(services):
            service.stop()
    return 0


def demo() -> int:
    def run(auth: ServiceProcess, targets: ServiceProcess, passwords: dict[str, str]) -> None:
        print(
            f"auth service at {auth.url}, targets service at {targets.url} (logs in {auth.log_path.parent})"
        )
        walkthrough(auth.url, targets.url, passwords)
        validate([auth.url, targets.url])
        print("\nDemo complete: both services stopped.")

    # Kept afterwards: the logs are what to read when a step fails, or to see what happened.
    workdir = Path(tempfile.mkdtemp(prefix="opsconductor-demo-"))
    code = _run(workdir, run, auth_port=free_port(), targets_port=free_port())
    print(f"Both services stopped; their logs are kept in {workdir}.")
    return code


def parse_ports(text: str) -> tuple[int, int]:
    """`"9001,9002"` as (auth port, targets port); 0 means any free port.

    Raises:
        ValueError: not two ports from 0 to 65535.
    """
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isdigit() and int(part) <= 65535 for part in parts):
        raise ValueError(f"--ports takes two ports, auth then targets, such as 9001,9002: {text!r}")
    return int(parts[0]), int(parts[1])


def available_port(port: int, service: str) -> int:
    """`port` when nothing listens there, else (or for 0) a free port, said so."""
    if port:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                chosen = free_port()
                print(f"port {port} is in use: the {service} listens on {chosen} instead")
                return chosen
            else:
                return port
    return free_port()


def serve(auth_port: int, targets_port: int, *, workdir: Path = DEMO_DIR) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def run(auth: ServiceProcess, targets: ServiceProcess, passwords: dict[str, str]) -> None:
        print(f"auth service:    {auth.url}/docs")
        print(f"targets service: {targets.url}/docs")
        print("users: " + ", ".join(f"{user} / {password}" for user, password in passwords.items()))
        print(f"logs: {workdir}/*.log. Ctrl-C stops both.", flush=True)
        stop.wait()

    return _run(
        workdir,
        run,
        auth_port=available_port(auth_port, "auth service"),
        targets_port=available_port(targets_port, "targets service"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--serve", action="store_true", help="keep the services running until Ctrl-C"
    )
    parser.add_argument(
        "--ports",
        type=parse_ports,
        default=DEFAULT_PORTS,
        help="with --serve: the auth and the targets port, such as 9001,9002 (0: any free one)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=DEMO_DIR, help="with --serve: where keys and logs go"
    )
    args = parser.parse_args(argv)
    if not args.serve:
        return demo()
    return serve(*args.ports, workdir=args.workdir)


if __name__ == "__main__":
    sys.exit(main())
