#!/usr/bin/env bash
# Real backends for docsvc on this machine, without Docker:
#   PostgreSQL 15, Redis and RabbitMQ (Debian packages), Elasticsearch 8 single node (the integ-test zip
#   from Maven Central, on the machine's Java 17) and an S3-compatible server (moto; MinIO itself
#   is not installable from the package registries this project may use).
#
#   scripts/services.sh up       install what is missing and start everything (idempotent)
#   scripts/services.sh down     stop everything
#   scripts/services.sh status   one line per service
#   scripts/services.sh env      print the DOCSVC_* variables that point docsvc at them
#   scripts/services.sh up|down|restart <name>   one service: postgres, redis, elasticsearch, s3, rabbitmq
#
# Everything lives under var/services/ in the checkout; servers listen on 127.0.0.1 only.
#
# Private instances (the fault tests stop and restart servers, so they never touch the shared ones):
#   DOCSVC_SVC_DIR=<dir> DOCSVC_SVC_PG_PORT=... (and _REDIS_, _ES_, _S3_, _RABBIT_PORT) scripts/services.sh up postgres
# keeps that instance's data, pid files and logs under <dir>; installed software (the Elasticsearch
# distribution) stays under var/services/ and is shared by every instance.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALL="$ROOT/var/services"
SVC="${DOCSVC_SVC_DIR:-$INSTALL}"
RUN="$SVC/run"
LOGS="$SVC/logs"

PG_PORT="${DOCSVC_SVC_PG_PORT:-15432}"
REDIS_PORT="${DOCSVC_SVC_REDIS_PORT:-16379}"
ES_PORT="${DOCSVC_SVC_ES_PORT:-19200}"
S3_PORT="${DOCSVC_SVC_S3_PORT:-19000}"
RABBIT_PORT="${DOCSVC_SVC_RABBIT_PORT:-15673}"   # AMQP; the node's distribution port is this + 10000
ES_VERSION="${DOCSVC_SVC_ES_VERSION:-8.19.3}"
ES_HEAP="${DOCSVC_SVC_ES_HEAP:-512m}"
SVC_USER="${DOCSVC_SVC_USER:-docsvc}"   # servers that refuse to run as root run as this user
S3_ACCESS_KEY="docsvc-access"
S3_SECRET_KEY="docsvc-secret-key"
S3_BUCKET="docsvc"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

as_service_user() {
  # Run a command as the unprivileged service user when we are root, else as ourselves.
  if [ "$(id -u)" = 0 ]; then runuser -u "$SVC_USER" -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # wait_port PORT NAME SECONDS (polled every 0.2 s: servers restarted by the fault tests)
  local i
  for ((i = 0; i < $3 * 5; i++)); do port_open "$1" && return 0; sleep 0.2; done
  die "$2 did not open port $1 within $3 s (logs in $LOGS)"
}

apt_install() {  # apt_install PACKAGE... (only those missing)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root or install them)"
  log "installing ${missing[*]}"
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock || true)" ] || ! apt-get install -y -qq "${missing[@]}" >"$LOGS/apt.log" 2>&1; then
    apt-get update -qq >"$LOGS/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
      || die "apt-get install ${missing[*]} failed (see $LOGS/apt.log)"
  fi
}

prepare() {
  mkdir -p "$RUN" "$LOGS"
  if [ "$(id -u)" = 0 ] && ! id "$SVC_USER" >/dev/null 2>&1; then
    useradd --system --create-home --shell /usr/sbin/nologin "$SVC_USER"
  fi
  if [ "$(id -u)" = 0 ]; then
    chown "$SVC_USER" "$RUN" "$LOGS"
    let_service_user_reach "$SVC" "$INSTALL"
  fi
}

let_service_user_reach() {  # let_service_user_reach DIR...
  # The servers run as $SVC_USER and keep their data under DIR. A checkout in a private folder
  # (`mktemp -d` makes it 0700, root's) cannot be entered by that user, so initdb and the others
  # fail. Give "search" permission (o+x: enter, not list or read) on each folder from DIR up that
  # the user cannot enter.
  local d
  for d in "$@"; do
    while [ -n "$d" ] && [ "$d" != / ]; do
      if ! runuser -u "$SVC_USER" -- test -x "$d" 2>/dev/null; then
        log "letting $SVC_USER enter $d (chmod o+x)"
        chmod o+x "$d"
      fi
      d="$(dirname "$d")"
    done
  done
}

# ---------------------------------------------------------------- PostgreSQL
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  return 1
}

postgres_up() {
  apt_install postgresql
  local bin data="$SVC/postgres"
  bin="$(pg_bin)" || die "PostgreSQL binaries not found after install"
  if port_open "$PG_PORT"; then log "postgres already up on $PG_PORT"; return 0; fi
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown "$SVC_USER" "$data"
    chmod 700 "$data"
    as_service_user "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOGS/postgres-init.log" 2>&1 \
      || die "initdb failed (see $LOGS/postgres-init.log)"
  fi
  as_service_user "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $RUN -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null \
    || die "postgres failed to start (see $LOGS/postgres.log)"
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='docsvc'")" != 1 ]; then
    "${psql[@]}" -c "create role docsvc login createdb password 'docsvc'"
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='docsvc'")" != 1 ]; then
    "${psql[@]}" -c "create database docsvc owner docsvc"
  fi
  log "postgres up on 127.0.0.1:$PG_PORT"
}

postgres_down() {
  local bin; bin="$(pg_bin)" || return 0
  [ -s "$SVC/postgres/postmaster.pid" ] || return 0
  as_service_user "$bin/pg_ctl" -D "$SVC/postgres" -m fast -w stop >/dev/null 2>&1 || true
  log "postgres stopped"
}

# ---------------------------------------------------------------- Redis
redis_up() {
  apt_install redis-server
  if port_open "$REDIS_PORT"; then log "redis already up on $REDIS_PORT"; return 0; fi
  mkdir -p "$SVC/redis"; [ "$(id -u)" = 0 ] && chown "$SVC_USER" "$SVC/redis"
  as_service_user redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$SVC/redis" \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" \
    --appendonly yes --save "" >/dev/null
  wait_port "$REDIS_PORT" redis 30
  log "redis up on 127.0.0.1:$REDIS_PORT"
}

redis_down() { stop_pidfile "$RUN/redis.pid" redis; }

# ---------------------------------------------------------------- RabbitMQ (edXML exchange broker)
rabbitmq_env() {  # the environment of this instance's node: its own name, ports, data and logs under $SVC
  printf '%s\n' "HOME=$SVC/rabbitmq" "RABBITMQ_NODENAME=docsvc$RABBIT_PORT@localhost" \
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" "RABBITMQ_NODE_PORT=$RABBIT_PORT" "RABBITMQ_DIST_PORT=$((RABBIT_PORT + 10000))" \
    "RABBITMQ_MNESIA_BASE=$SVC/rabbitmq/mnesia" "RABBITMQ_LOG_BASE=$LOGS/rabbitmq" \
    "RABBITMQ_ENABLED_PLUGINS_FILE=$SVC/rabbitmq/enabled_plugins" "RABBITMQ_CONFIG_FILE=$SVC/rabbitmq/rabbitmq" \
    "RABBITMQ_PID_FILE=$RUN/rabbitmq.pid" "ERL_EPMD_ADDRESS=127.0.0.1"
}

rabbitmq_up() {
  apt_install rabbitmq-server
  if port_open "$RABBIT_PORT"; then log "rabbitmq already up on $RABBIT_PORT"; return 0; fi
  mkdir -p "$SVC/rabbitmq" "$LOGS/rabbitmq"
  [ -s "$SVC/rabbitmq/enabled_plugins" ] || echo '[].' >"$SVC/rabbitmq/enabled_plugins"
  [ -s "$SVC/rabbitmq/rabbitmq.conf" ] || printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\n' \
    "$RABBIT_PORT" >"$SVC/rabbitmq/rabbitmq.conf"
  [ "$(id -u)" = 0 ] && chown -R "$SVC_USER" "$SVC/rabbitmq" "$LOGS/rabbitmq"
  local envs; mapfile -t envs < <(rabbitmq_env)
  as_service_user env "${envs[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >"$LOGS/rabbitmq-start.log" 2>&1 &
  wait_port "$RABBIT_PORT" rabbitmq 120
  as_service_user env "${envs[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "docsvc$RABBIT_PORT@localhost" \
    await_startup --timeout 120 >/dev/null 2>&1 || die "rabbitmq did not finish starting (see $LOGS/rabbitmq)"
  log "rabbitmq up on 127.0.0.1:$RABBIT_PORT"
}

rabbitmq_down() {
  [ -s "$RUN/rabbitmq.pid" ] || return 0
  local envs; mapfile -t envs < <(rabbitmq_env)
  as_service_user env "${envs[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "docsvc$RABBIT_PORT@localhost" \
    stop "$RUN/rabbitmq.pid" >/dev/null 2>&1 || stop_pidfile "$RUN/rabbitmq.pid" rabbitmq
  rm -f "$RUN/rabbitmq.pid"
  # The node started Erlang's port mapper (epmd); stop it too once no node is registered with it.
  if command -v epmd >/dev/null && ! ERL_EPMD_ADDRESS=127.0.0.1 epmd -names 2>/dev/null | grep -q '^name '; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
  fi
  log "rabbitmq stopped"
}

# ---------------------------------------------------------------- Elasticsearch
java17_home() {
  local d
  for d in /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-1.17.0-openjdk-*; do
    [ -x "$d/bin/java" ] && { echo "$d"; return 0; }
  done
  return 1
}

elasticsearch_install() {  # the distribution, once per checkout (shared by private instances)
  local home="$INSTALL/elasticsearch-$ES_VERSION"
  [ -x "$home/bin/elasticsearch" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  command -v unzip >/dev/null || apt_install unzip
  mkdir -p "$INSTALL/downloads"
  log "fetching Elasticsearch $ES_VERSION (integ-test zip) from Maven Central"
  mvn -q -B dependency:copy \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
    -DoutputDirectory="$INSTALL/downloads" >"$LOGS/es-download.log" 2>&1 \
    || die "could not fetch the Elasticsearch zip (see $LOGS/es-download.log)"
  rm -rf "$home.partial"; mkdir -p "$home.partial"
  unzip -q "$INSTALL/downloads/elasticsearch-$ES_VERSION.zip" -d "$home.partial"
  mv "$home.partial/elasticsearch-$ES_VERSION" "$home"; rm -rf "$home.partial"
}

elasticsearch_up() {
  local home="$INSTALL/elasticsearch-$ES_VERSION" data="$SVC/es-data" java
  if port_open "$ES_PORT"; then log "elasticsearch already up on $ES_PORT"; return 0; fi
  java="$(java17_home)" || { apt_install openjdk-17-jre-headless; java="$(java17_home)"; }
  elasticsearch_install
  mkdir -p "$data" "$LOGS/es" "$SVC/es-tmp"
  [ "$(id -u)" = 0 ] && chown -R "$SVC_USER" "$home" "$data" "$LOGS/es" "$SVC/es-tmp"
  as_service_user env ES_JAVA_HOME="$java" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" ES_TMPDIR="$SVC/es-tmp" \
    "$home/bin/elasticsearch" -d -p "$RUN/elasticsearch.pid" \
    -Ediscovery.type=single-node -Expack.security.enabled=false \
    -Ecluster.routing.allocation.disk.threshold_enabled=false \
    -Enetwork.host=127.0.0.1 -Ehttp.port="$ES_PORT" -Etransport.port=$((ES_PORT + 100)) \
    -Epath.data="$data" -Epath.logs="$LOGS/es" -Eaction.destructive_requires_name=false \
    >"$LOGS/elasticsearch-start.log" 2>&1 || die "elasticsearch failed to start (see $LOGS/es)"
  wait_port "$ES_PORT" elasticsearch 120
  local i
  for ((i = 0; i < 60; i++)); do
    curl -fsS "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1 && break
    sleep 1
  done
  log "elasticsearch $ES_VERSION up on 127.0.0.1:$ES_PORT"
}

elasticsearch_down() { stop_pidfile "$RUN/elasticsearch.pid" elasticsearch; }

# ---------------------------------------------------------------- S3 (moto server)
ensure_venv() {
  if [ ! -x "$ROOT/.venv/bin/moto_server" ]; then
    log "installing the project's virtualenv (dev extra) for the S3 server"
    make -C "$ROOT" --no-print-directory venv >"$LOGS/venv.log" 2>&1 || die "venv install failed (see $LOGS/venv.log)"
  fi
}

s3_up() {
  if port_open "$S3_PORT"; then log "s3 already up on $S3_PORT"; return 0; fi
  ensure_venv
  # moto keeps objects in memory: restarting it empties every bucket.
  nohup "$ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$LOGS/s3.log" 2>&1 &
  echo $! >"$RUN/s3.pid"
  wait_port "$S3_PORT" s3 60
  log "s3 (moto) up on 127.0.0.1:$S3_PORT"
}

s3_down() { stop_pidfile "$RUN/s3.pid" s3; }

# ---------------------------------------------------------------- helpers
stop_pidfile() {  # stop_pidfile FILE NAME
  [ -s "$1" ] || return 0
  local pid; pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i; for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  log "$2 stopped"
}

status_line() {  # status_line NAME PORT
  if port_open "$2"; then printf '%-14s up    127.0.0.1:%s\n' "$1" "$2"; else printf '%-14s down  (port %s)\n' "$1" "$2"; fi
}

print_env() {
  cat <<EOF
export DOCSVC_DATABASE_URL='postgresql+psycopg://docsvc:docsvc@127.0.0.1:$PG_PORT/docsvc'
export DOCSVC_BROKER_URL='redis://127.0.0.1:$REDIS_PORT/0'
export DOCSVC_SEARCH_URL='http://127.0.0.1:$ES_PORT'
export DOCSVC_STORAGE_URL='s3://$S3_BUCKET'
export DOCSVC_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export DOCSVC_S3_ACCESS_KEY='$S3_ACCESS_KEY'
export DOCSVC_S3_SECRET_KEY='$S3_SECRET_KEY'
export DOCSVC_S3_REGION='us-east-1'
export DOCSVC_EXCHANGE_BROKER_URL='amqp://guest:guest@127.0.0.1:$RABBIT_PORT//'
EOF
}

ALL=(postgres redis elasticsearch s3 rabbitmq)

one_or_all() {  # one_or_all ACTION [NAME]
  local action="$1" name="${2:-}" s
  if [ -n "$name" ]; then
    case " ${ALL[*]} " in *" $name "*) ;; *) die "unknown service '$name' (one of: ${ALL[*]})" ;; esac
    "${name}_${action}"
  else
    for s in "${ALL[@]}"; do "${s}_${action}"; done
  fi
}

case "${1:-}" in
  up) prepare; one_or_all up "${2:-}" ;;
  down) prepare; one_or_all down "${2:-}" ;;
  restart) prepare; one_or_all down "${2:-}"; one_or_all up "${2:-}" ;;
  status)
    status_line postgres "$PG_PORT"; status_line redis "$REDIS_PORT"
    status_line elasticsearch "$ES_PORT"; status_line s3 "$S3_PORT"; status_line rabbitmq "$RABBIT_PORT" ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|restart [postgres|redis|elasticsearch|s3|rabbitmq] | status | env" >&2; exit 2 ;;
esac
