#!/usr/bin/env bash
# The newcomer's path, timed: clone this repository, install the scaffold the way the README
# says, `opsconductor-service new jobs` (stdin not a terminal: every default), the service's
# own `make test` (its venv, its tests, validate --strict), then `make run` until
# /health/live answers. Prints the seconds of each step and the scaffolded service's size.
#
#     bash scripts/first_service.sh [SOURCE]     # SOURCE: a path or git URL, default this checkout
set -euo pipefail
source_repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
work="$(mktemp -d)"
port="${PORT:-18480}"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
server=""
start=$(date +%s.%N)
mark() { printf '%-44s %6.1f s\n' "$1" "$(echo "$(date +%s.%N) - $start" | bc)"; }

git clone --quiet "$source_repo" "$work/opsconductor-shared"
mark "git clone"
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet \
  "opsconductor-shared[scaffold] @ file://$work/opsconductor-shared" 2>"$work/pip.log" \
  || { cat "$work/pip.log"; exit 1; }
mark "pip install opsconductor-shared[scaffold]"
(cd "$work" && "$work/tools/bin/opsconductor-service" new jobs </dev/null >/dev/null)
mark "opsconductor-service new jobs"
(cd "$work/jobs-service" && make test >"$work/make-test.log" 2>&1) \
  || { tail -40 "$work/make-test.log"; exit 1; }
mark "make test (its venv, tests, validate --strict)"
(cd "$work/jobs-service" && exec make run PORT="$port" >"$work/run.log" 2>&1) &
server=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health/live" >/dev/null || { cat "$work/run.log"; exit 1; }
mark "make run: /health/live answers"
kill "$server"; wait "$server" 2>/dev/null || true
pkill -f "uvicorn.*--port $port" 2>/dev/null || true

cd "$work/jobs-service"
echo
echo "the scaffolded service's files and lines (what make test made, the venv and caches, left out):"
find . \( -name .venv -o -name .pytest_cache -o -name __pycache__ -o -name '*.egg-info' \) -prune \
  -o -type f -print | sort | xargs wc -l
