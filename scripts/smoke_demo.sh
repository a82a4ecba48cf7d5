#!/usr/bin/env bash
# Smoke test of the one-command demo path on SQLite with the embedded broker:
# start it as `make run` does, GET /healthz and the login page, then stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
port="${SMOKE_PORT:-8765}"
log="$tmp/run.log"
cleanup() {
  if [ -n "${demo_pid:-}" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -INT "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Job control: the demo gets a process group of its own, and keeps Ctrl-C's INT (a background
# job without it would start with INT ignored, which a terminal's `make run` does not).
set -m
env -u DATABASE_URL -u CELERY_BROKER_URL CONSENTDESK_VAR_DIR="$tmp/var" PORT="$port" \
  bash scripts/run_demo.sh >"$log" 2>&1 &
demo_pid=$!
set +m

ok=""
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/healthz" -o "$tmp/healthz.json" 2>/dev/null; then ok=1; break; fi
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 1
done
if [ -z "$ok" ]; then
  echo "demo did not become healthy:"; cat "$log"; tail -n 30 "$tmp"/var/log/*.log 2>/dev/null || true
  exit 1
fi
echo "healthz: $(cat "$tmp/healthz.json")"
grep -q '"status": "ok"' "$tmp/healthz.json"
code="$(curl -s -o "$tmp/login.html" -w '%{http_code}' "http://127.0.0.1:$port/login/")"
[ "$code" = "200" ] || { echo "login page answered $code"; exit 1; }
grep -q 'name="password"' "$tmp/login.html"
echo "login page: 200"
grep -q "agent-demo-2026" "$log" || { echo "seed_demo did not print the logins"; cat "$log"; exit 1; }
# Ctrl-C stops web, worker and beat together (the terminal signals the whole process group),
# even with a web worker that no longer answers signals (stopped here; one Ctrl-C reached
# while it booted hangs the same way): gunicorn kills it after its graceful timeout.
web="$(pgrep -P "$demo_pid" -f 'gunicorn config.wsgi' | head -n 1)"
stuck="$(pgrep -P "$web" | head -n 1)"
[ -n "$stuck" ] || { echo "no web worker found under the demo"; pgrep -a -g "$demo_pid"; exit 1; }
kill -STOP "$stuck"
kill -INT -- "-$demo_pid"
for _ in $(seq 1 40); do pgrep -g "$demo_pid" >/dev/null || break; sleep 0.5; done
if pgrep -g "$demo_pid" >/dev/null; then
  echo "demo processes survived Ctrl-C:"; pgrep -a -g "$demo_pid"; exit 1
fi
status=0
wait "$demo_pid" || status=$?
demo_pid=""
# A stop asked for ends `make run` with 0, after run_demo.sh's own stop ran to its end.
[ "$status" = 0 ] && grep -q "Stopping web, worker and beat" "$log" || {
  echo "run_demo.sh did not stop cleanly on Ctrl-C (exit $status):"; tail -n 5 "$log"; exit 1
}
echo "demo smoke test passed"
