#!/usr/bin/env bash
# Brings docker-compose.yml up as README "Production shape" describes, checks what it promises, and
# takes it down again with its volumes. For a machine with a container engine:
#   scripts/compose-check.sh                          # docker compose
#   COMPOSE=podman-compose scripts/compose-check.sh   # Podman
# The compose file publishes fixed ports (8080, 8090, 8161, 61616): they must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

compose=(${COMPOSE:-docker compose} -p agent-coordinator-check)
api=http://localhost:8080
hawtio=http://localhost:8090/hawtio
user=coordinator
password=check-$RANDOM$RANDOM

say() { echo "compose-check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# A password of this run's own, unless an .env is already there (then its values are used).
made_env=no
if [ ! -e .env ]; then
    printf 'ARTEMIS_PASSWORD=%s\nPOSTGRES_PASSWORD=%s\nCOORDINATOR_HTTP_PASSWORD=%s\n' "$password" "$password" "$password" > .env
    made_env=yes
else
    password=$(sed -n 's/^COORDINATOR_HTTP_PASSWORD=//p' .env)
    [ -n "$password" ] || fail ".env has no COORDINATOR_HTTP_PASSWORD"
fi
cleanup() {
    "${compose[@]}" down -v >/dev/null 2>&1 || true
    [ "$made_env" = no ] || rm -f .env
}
trap cleanup EXIT

# waits up to $1 seconds for the command after it to succeed
wait_for() {
    local seconds=$1; shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 1
    done
}
ready() { curl -sf "$api/observe/health/ready" | grep -q UP; }
get() { curl -sf -u "$user:$password" "$api$1"; }

say "building and starting the services (the first build downloads the Maven dependencies)"
"${compose[@]}" up -d --build >/dev/null
wait_for 300 ready || fail "the coordinator did not report ready within 300 s"
say "coordinator ready"

event=$(curl -sf -u "$user:$password" -X POST "$api/api/events" -H 'Content-Type: application/json' \
    -d '{"type": "INTERVIEW_COMPLETED", "payload": {"interview_id": "i-1", "user_id": "u-1"}}') \
    || fail "POST /api/events was refused"
event_id=$(echo "$event" | sed -n 's/.*"event_id": *"\([^"]*\)".*/\1/p')
[ -n "$event_id" ] || fail "POST /api/events answered $event"
# the event names the execution it started once a coordinator has taken it off agent.events
started() { get "/api/events/$event_id" | grep -q '"execution_id": *"'; }
wait_for 60 started || fail "event $event_id: no execution started within 60 s"
execution_id=$(get "/api/events/$event_id" | sed -n 's/.*"execution_id": *"\([^"]*\)".*/\1/p')
completed() { get "/api/executions?status=completed&limit=100" | grep -q "\"id\": *\"$execution_id\""; }
wait_for 60 completed || fail "execution $execution_id did not complete within 60 s: $(get "/api/executions/$execution_id" | head -c 300)"
say "event $event_id -> execution $execution_id completed by the demo-agents service"

wait_for 120 curl -sf -o /dev/null "$hawtio/" || fail "Hawtio did not answer on $hawtio/"
curl -sf -u "$user:$password" "$hawtio/proxy/http/coordinator/8080/observe/jolokia/read/org.apache.camel:context=*,type=context,name=*/State" \
    | grep -q '"State":"Started"' || fail "Hawtio's proxy did not reach the coordinator's Jolokia"
say "Hawtio reads the coordinator's Camel context through its proxy"

say "down and up again: the broker's and the database's volumes stay"
"${compose[@]}" down >/dev/null
"${compose[@]}" up -d >/dev/null
wait_for 300 ready || fail "the coordinator did not report ready again within 300 s"
completed || fail "the completed execution is gone after down and up"
say "passed"
