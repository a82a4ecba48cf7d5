#!/usr/bin/env bash
# Schemathesis against a live server over the whole OpenAPI schema (/api/schema/):
# a fresh PostgreSQL database, a small fixed data set, gunicorn on a free port,
# then property-based requests per operation with six checks. POSTs write data:
# that is what the throwaway database is for. Exits non-zero on any failure.
#
# Needs the suite's environment (DATABASE_URL pointing at PostgreSQL, the test
# secret and suppression keys), as `make test` and .ci/run set it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
SEED="${SCHEMATHESIS_SEED:-20261202}"
TIME_BOUND="${SCHEMATHESIS_TIME_BOUND:-600}"  # seconds, for each pass

# The PostgreSQL server of the suite (as the Makefile picks it), another database on it.
case "${DATABASE_OWNER_URL:-${DATABASE_URL:-}}" in
  postgres*) base_url="${DATABASE_OWNER_URL:-$DATABASE_URL}" ;;
  *) base_url="postgres://postgres@127.0.0.1:5432/consentdesk" ;;
esac
db_name="consentdesk_schemathesis"
admin_url="${base_url%/*}/postgres"
# Two roles, as in production (core.db_roles): the server runs as an app role
# that may only read and append to the audit tables; the owner migrates.
export DATABASE_OWNER_URL="${base_url%/*}/$db_name"
server="${base_url#*@}"
export DATABASE_URL="postgres://consentdesk_app@${server%/*}/$db_name"
export DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_ALLOWED_HOSTS=127.0.0.1
export CONSENTDESK_REQUIRE_2FA="${CONSENTDESK_REQUIRE_2FA:-1}"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-test-only-secret-key-for-the-suite-0123456789abcdefghijklmnop}"
export CONSENTDESK_SUPPRESSION_KEY="${CONSENTDESK_SUPPRESSION_KEY:-test-only-suppression-key-0123456789abcdef}"

tmp="$(mktemp -d)"
export CONSENTDESK_VAR_DIR="$tmp/var"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

started=$(date +%s)
echo "== schemathesis: fresh database $db_name"
$PY - "$admin_url" "$db_name" <<'EOF'
import sys

import psycopg

with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    connection.execute(f"DROP DATABASE IF EXISTS {sys.argv[2]} WITH (FORCE)")
    connection.execute(f"CREATE DATABASE {sys.argv[2]}")
EOF
$PY manage.py db_roles
$PY manage.py migrate --noinput -v 0
tokens="$($PY manage.py shell --no-imports < scripts/schemathesis_seed.py)"
root_token="$(awk '$1 == "token" && $2 == "root" {print $3}' <<<"$tokens")"
agent_token="$(awk '$1 == "token" && $2 == "agent" {print $3}' <<<"$tokens")"

port="$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
echo "== schemathesis: gunicorn on 127.0.0.1:$port"
.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --access-logfile - --error-logfile - >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log"; exit 1; }
  sleep 0.5
done

checks="not_a_server_error,status_code_conformance,content_type_conformance"
checks="$checks,response_headers_conformance,response_schema_conformance,negative_data_rejection"
agents_only='^/api/v1/dialer/'
# The schema as the live server serves it (it asks for a role, so with the token).
curl -fsS -H "Authorization: Token $root_token" "http://127.0.0.1:$port/api/schema/?format=json" \
  -o "$tmp/schema.json"
schemathesis="$PWD/.venv/bin/schemathesis"
run() {  # run <token> <filter option> <regex>; in $tmp, where it keeps its cache
  (cd "$tmp" && timeout "$TIME_BOUND" "$schemathesis" run schema.json --url "http://127.0.0.1:$port" \
    --header "Authorization: Token $1" "$2" "$3" \
    --checks "$checks" --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --generation-database none --workers 2 \
    --request-timeout 30 --no-color)
}
status=0
echo "== schemathesis: every operation but the dialer's, as a superuser"
run "$root_token" --exclude-path-regex "$agents_only" || status=$?
echo "== schemathesis: the dialer (agents only), as an agent"
run "$agent_token" --include-path-regex "$agents_only" || status=$?

if grep -q "Internal Server Error\|Traceback" "$tmp/server.log"; then
  echo "== schemathesis: the server logged an error"
  grep -B2 -A30 "Traceback" "$tmp/server.log" | head -80
  status=1
fi
echo "== schemathesis: $(grep -c '"[A-Z]* /api/v1/' "$tmp/server.log" || true) API requests" \
  "in $(($(date +%s) - started)) s"
exit "$status"
