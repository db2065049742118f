#!/usr/bin/env bash
# The local single-node Apache Kafka (KRaft) for development and tests.
#
#   deploy/local/kafka.sh start   start in the background; idempotent; returns once the broker
#                                 accepts connections (and fails loudly if it does not)
#   deploy/local/kafka.sh stop    stop it and wait until it is gone
#   deploy/local/kafka.sh kill    SIGKILL it, as a crash would (the fault tests); start recovers
#   deploy/local/kafka.sh status  exit 0 when it runs
#
# Jars come from Maven Central through mvn (deploy/local/pom.xml) and run on the machine's Java 17.
# Environment: KAFKA_PORT (9092), KAFKA_STATE (.local/kafka: config, data, logs, pid; git-ignored),
# KAFKA_FRESH=1 wipes the state before start (the test session uses it), KAFKA_CPUS pins the JVM
# to those cores with taskset (benchmarks).
#
# Secured by default: SASL_SSL with SCRAM-SHA-512 and KRaft's StandardAuthorizer (no ACL, no
# access). The first start makes a local CA and broker certificate (openssl) and an `admin`
# principal, and writes that principal's client settings to $KAFKA_STATE/admin.json (mode 0600):
# the JSON of `engine.tools toegang`, which uses it to create every other principal.
# KAFKA_INSECURE=1 starts a plaintext broker without authentication instead (experiments only).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # "&" in a substituted value stays "&"

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-9092}
controller_port=$((port + 1))
state=${KAFKA_STATE:-$root/.local/kafka}
libs=$root/.local/kafka-libs
pidfile=$state/kafka.pid
tls=$state/tls
secure=1
if [ "${KAFKA_INSECURE:-0}" = 1 ]; then secure=0; fi

log() { echo "kafka.sh: $*" >&2; }

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

accepting() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

resolve_jars() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v mvn >/dev/null || { log "mvn is required (apt-get install maven)"; exit 1; }
  command -v java >/dev/null || { log "java 17 is required (apt-get install openjdk-17-jre-headless)"; exit 1; }
  log "resolving Kafka jars from Maven Central into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -Dstyle.color=never -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

# A local CA and a broker certificate for 127.0.0.1/localhost, signed by it (kept with the state).
make_tls() {
  if [ -f "$tls/broker.pem" ]; then return; fi
  mkdir -p "$tls"
  local ext="$tls/broker.ext"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$ext"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.crt" \
      -subj "/CN=riec-engine local CA" -days 3650 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$tls/broker.key" -out "$tls/broker.csr" \
      -subj "/CN=riec-broker" 2>/dev/null
    openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
      -out "$tls/broker.crt" -days 825 -extfile "$ext" 2>/dev/null
    # Kafka's PEM keystore: the unencrypted PKCS#8 key, then the certificate chain.
    openssl pkcs8 -topk8 -nocrypt -in "$tls/broker.key" -out "$tls/broker.pk8"
    cat "$tls/broker.pk8" "$tls/broker.crt" "$tls/ca.crt" > "$tls/broker.pem"
  )
  chmod 644 "$tls/ca.crt"
}

# The admin principal's password, made once per state; its client settings as toegang's JSON.
admin_password() {
  if [ ! -f "$state/admin.password" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$state/admin.password")
  fi
  cat "$state/admin.password"
}

write_admin_json() {
  (
    umask 077
    if [ "$secure" = 1 ]; then
      printf '{"bootstrap_servers": "127.0.0.1:%s", "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "admin", "sasl_plain_password": "%s", "ssl_cafile": "%s"}\n' \
        "$port" "$(admin_password)" "$tls/ca.crt" > "$state/admin.json"
    else
      printf '{"bootstrap_servers": "127.0.0.1:%s", "security_protocol": "PLAINTEXT"}\n' "$port" > "$state/admin.json"
    fi
  )
}

start() {
  if running && accepting; then
    log "already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    return
  fi
  if accepting; then
    log "port $port is taken by a process this script did not start"; exit 1
  fi
  resolve_jars
  if [ "${KAFKA_FRESH:-0}" = 1 ]; then rm -rf "$state"; fi
  mkdir -p -m 700 "$state" "$state/data" "$state/logs"
  local listeners="$here/plaintext.properties.in"
  if [ "$secure" = 1 ]; then
    command -v openssl >/dev/null || { log "openssl is required (apt-get install openssl)"; exit 1; }
    make_tls
    listeners="$here/security.properties.in"
  fi
  # Filled in by bash, not sed: the admin password must never be a process argument (ps shows those).
  local config
  config=$(cat "$here/server.properties.in" "$listeners")
  config=${config//@PORT@/$port}
  config=${config//@CONTROLLER_PORT@/$controller_port}
  config=${config//@DATA@/$state/data}
  config=${config//@TLS@/$tls}
  config=${config//@ADMIN_PASSWORD@/$(admin_password)}
  (umask 077; printf '%s\n' "$config" > "$state/server.properties")  # it holds the admin password
  write_admin_json
  local java=(java -Xms256m -Xmx1g -cp "$libs/*"
              -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$state/logs")
  if [ ! -f "$state/data/meta.properties" ]; then
    local cluster_id args="$state/format.args"
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    # The tool's arguments from a 0600 file (java @file): the SCRAM password stays out of `ps`.
    (
      umask 077
      printf '%s\n' kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" > "$args"
      if [ "$secure" = 1 ]; then
        printf '%s\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$(admin_password)]" >> "$args"
      fi
    )
    "${java[@]}" "@$args" > "$state/logs/format.log" 2>&1
    rm -f "$args"
  fi
  local pin=()
  if [ -n "${KAFKA_CPUS:-}" ]; then pin=(taskset -c "$KAFKA_CPUS"); fi
  : > "$state/logs/server.log"
  # umask 077: the broker's segments hold partners' raw messages; no other local user reads them.
  (umask 077; exec nohup "${pin[@]}" "${java[@]}" kafka.Kafka "$state/server.properties" \
    > "$state/logs/stdout.log" 2>&1 < /dev/null) &
  echo $! > "$pidfile"
  for _ in $(seq 1 240); do
    if ! running; then
      log "broker exited during start; last lines of its logs:"
      tail -n 20 "$state/logs/stdout.log" "$state/logs/server.log" >&2; exit 1
    fi
    if accepting && grep -q "Kafka Server started" "$state/logs/server.log" 2>/dev/null; then
      local how="SASL_SSL, admin settings in $state/admin.json"
      if [ "$secure" = 0 ]; then how="PLAINTEXT, no authentication (KAFKA_INSECURE=1)"; fi
      log "running on 127.0.0.1:$port ($how; pid $(cat "$pidfile"), state in $state)"
      return
    fi
    sleep 0.25
  done
  log "broker did not become ready within 60 s; see $state/logs/server.log"; exit 1
}

stop() {
  if ! running; then log "not running"; rm -f "$pidfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "stopped"; return; }
    sleep 0.25
  done
  log "broker did not stop within 30 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

crash() {
  if running; then
    local pid; pid=$(cat "$pidfile")
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    log "killed"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) crash ;;
  status) running && accepting ;;
  *) echo "usage: $0 start|stop|kill|status" >&2; exit 2 ;;
esac
