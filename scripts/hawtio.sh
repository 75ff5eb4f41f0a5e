#!/usr/bin/env bash
# Hawtio 4 (web console) for a running coordinator: downloads the Hawtio war and Jetty 12 with Maven
# (once, into ~/.cache/agent-coordinator-hawtio), runs Hawtio on http://127.0.0.1:${HAWTIO_PORT:-8090}/hawtio/
# and prints how to connect it to the coordinator's Jolokia endpoint (/observe/jolokia).
#
#   scripts/hawtio.sh                       # coordinator on http://127.0.0.1:8080
#   COORDINATOR_URL=http://10.0.0.5:8080 scripts/hawtio.sh
#
# Hawtio itself listens on 127.0.0.1 without a login of its own (it is your local console); the
# coordinator's Jolokia asks for coordinator.http.user/password whenever a password is configured,
# which you enter in Hawtio's connection dialog. Stop with Ctrl-C.
set -euo pipefail

HAWTIO_VERSION="${HAWTIO_VERSION:-4.2.0}"
JETTY_VERSION="${JETTY_VERSION:-12.1.12}"
HAWTIO_HOST="${HAWTIO_HOST:-127.0.0.1}"
HAWTIO_PORT="${HAWTIO_PORT:-8090}"
COORDINATOR_URL="${COORDINATOR_URL:-http://127.0.0.1:8080}"
CACHE="${HAWTIO_CACHE:-$HOME/.cache/agent-coordinator-hawtio}"

coordinator_host="$(echo "$COORDINATOR_URL" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')"
jetty_home="$CACHE/jetty-home-$JETTY_VERSION"
jetty_base="$CACHE/base-$HAWTIO_VERSION"

# Each download and unpack is made in a folder of its own and moved into place whole, so that one
# stopped half-way (Ctrl-C, a lost connection) is made again by the next run, not taken as done.
mkdir -p "$CACHE"
staging="$(mktemp -d "$CACHE/.partial.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
war="$CACHE/hawtio-default-$HAWTIO_VERSION.war"
if [ ! -f "$war" ]; then
  mvn -q -B dependency:copy -Dartifact="io.hawt:hawtio-default:$HAWTIO_VERSION:war" -DoutputDirectory="$staging"
  mv "$staging/hawtio-default-$HAWTIO_VERSION.war" "$war"
fi
if [ ! -f "$jetty_home/start.jar" ]; then
  mvn -q -B dependency:copy -Dartifact="org.eclipse.jetty:jetty-home:$JETTY_VERSION:tar.gz" -DoutputDirectory="$staging"
  tar -xzf "$staging/jetty-home-$JETTY_VERSION.tar.gz" -C "$staging"
  rm -rf "$jetty_home"   # one unpacked half-way by an earlier version of this script
  mv "$staging/jetty-home-$JETTY_VERSION" "$jetty_home"
fi
if [ ! -f "$jetty_base/webapps/hawtio.war" ]; then
  mkdir -p "$staging/base"
  (cd "$staging/base" && java -jar "$jetty_home/start.jar" --add-modules=http,ee9-deploy >/dev/null)
  cp "$war" "$staging/base/webapps/hawtio.war"
  rm -rf "$jetty_base"
  mv "$staging/base" "$jetty_base"
fi
rm -rf "$staging"
trap - EXIT

cat <<INFO
Hawtio: http://$HAWTIO_HOST:$HAWTIO_PORT/hawtio/
  Connect > Remote > Add connection: scheme http, host $coordinator_host, port and path of
  $COORDINATOR_URL/observe/jolokia; then Connect (user/password: coordinator.http.user/password).
  Camel > agent-coordinator > Routes: one route per workflow part (wf.<workflow>.<step>, ...), Route Diagram
  shows the workflow's shape with live exchange counts.
INFO

cd "$jetty_base"
exec java \
  -Dhawtio.authenticationEnabled=false \
  -Dhawtio.proxyAllowlist="localhost,127.0.0.1,$coordinator_host" \
  -jar "$jetty_home/start.jar" jetty.http.host="$HAWTIO_HOST" jetty.http.port="$HAWTIO_PORT"
