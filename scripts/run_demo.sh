#!/usr/bin/env bash
# The one-command demo: migrate, seed, then web + Celery worker + beat.
# Ctrl-C stops all three. Defaults: SQLite file and embedded broker in var/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
VAR="${CONSENTDESK_VAR_DIR:-var}"
mkdir -p "$VAR/broker/control" "$VAR/log"

# Two database roles on PostgreSQL (README, "Two database roles"): the owner
# (DATABASE_OWNER_URL) migrates; web, worker and beat run as DATABASE_URL's role.
case "${DATABASE_URL:-sqlite}" in
  postgres*)
    if [ -n "${DATABASE_OWNER_URL:-}" ]; then
      $PY manage.py db_roles
      roles_note="Database roles: web, worker and beat run as DATABASE_URL's role; the owner migrates."
    else
      roles_note="One database role: set DATABASE_OWNER_URL to keep the app's role from changing the decision log."
    fi ;;
  *) roles_note="The demo runs on SQLite, as one role: the two database roles that guard the decision log need PostgreSQL." ;;
esac
$PY manage.py migrate --noinput -v 0
# The key that signs the decision log's checkpoints (CONSENTDESK_LEDGER_KEY, or var/ledger/).
$PY manage.py ledger_keygen --if-missing
$PY manage.py setup_periodic_tasks
# The seed's summary here, its log lines in var/log/seed.log; the logins again at the end.
if ! $PY manage.py seed_demo >"$VAR/log/seed.log" 2>&1; then
  cat "$VAR/log/seed.log" >&2
  exit 1
fi
grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ ' "$VAR/log/seed.log" | sed '/^Demo data ready/,$d'

pids=()
alive() { local pid; for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi; done; }
stop() {
  trap - INT TERM EXIT
  echo "Stopping web, worker and beat..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # Each has 10 s to finish what it is doing (gunicorn kills a worker that
  # has not stopped after its 5 s --graceful-timeout: one that Ctrl-C reached
  # while booting, say); whatever is left then is killed.
  for _ in $(seq 1 20); do
    [ -z "$(alive)" ] && break
    sleep 0.5
  done
  left="$(alive)"
  if [ -n "$left" ]; then
    echo "Still running after 10 s, killed: $left" >&2
    kill -KILL $left 2>/dev/null || true
  fi
  wait "${pids[@]}" 2>/dev/null || true
}
# Ctrl-C (or a TERM) is a stop asked for: it ends the script with 0, not make's "Error".
trap 'stop; exit 0' INT TERM
trap stop EXIT

$PY -m gunicorn config.wsgi --bind "$HOST:$PORT" --workers 2 --threads 4 --graceful-timeout 5 --access-logfile - \
  >"$VAR/log/web.log" 2>&1 &
pids+=($!)
$PY -m celery -A config worker --loglevel INFO --concurrency 2 --without-gossip --without-mingle \
  >"$VAR/log/worker.log" 2>&1 &
pids+=($!)
$PY -m celery -A config beat --loglevel INFO --pidfile= >"$VAR/log/beat.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  if curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
echo
sed -n '/^Demo data ready/,$p' "$VAR/log/seed.log"
cat <<MSG

  ConsentDesk is running at http://$HOST:$PORT/   (another port: PORT=8080 make run)
  API docs: http://$HOST:$PORT/api/docs/
  Logs: $VAR/log/{seed,web,worker,beat}.log
  Ctrl-C stops web, worker and beat.
  $roles_note

MSG
# If any of the three dies, stop the others too (the EXIT trap) and say so.
status=0
wait -n "${pids[@]}" || status=$?
echo "A demo process exited (status $status); see $VAR/log/." >&2
exit 1
