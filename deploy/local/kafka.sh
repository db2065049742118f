#!/usr/bin/env bash
# The local Apache Kafka (KRaft) for development and tests: one node, or a cluster of KAFKA_NODES.
#
#   deploy/local/kafka.sh start   start in the background; idempotent; returns once every broker
#                                 accepts connections (and fails loudly if one does not)
#   deploy/local/kafka.sh stop    stop it and wait until it is gone
#   deploy/local/kafka.sh kill    SIGKILL it, as a crash would (the fault tests); start recovers
#   deploy/local/kafka.sh status  exit 0 when it runs
#
# Jars come from Maven Central through mvn (deploy/local/pom.xml) and run on the machine's Java 17.
# Environment: KAFKA_PORT (9092), KAFKA_STATE (.local/kafka: config, data, logs, pid; git-ignored),
# KAFKA_FRESH=1 wipes the state before start (the test session uses it), KAFKA_CPUS pins the JVM
# to those cores with taskset (benchmarks).
#
# KAFKA_NODES=3 (`make cluster`, the cluster tests): three nodes, each broker and controller, in
# one 3-voter quorum; node i listens on KAFKA_PORT + 2(i-1) (clients) and the port after it
# (controller), keeps its data, logs and pid in $KAFKA_STATE/node-i, and every topic has
# replication factor 3 and min.insync.replicas 2. KAFKA_NODE=i makes start, stop and kill act on
# that node only (kill the partition leader, start it again). One node (the default) keeps its
# files directly in $KAFKA_STATE, as before.
#
# Secured by default: SASL_SSL with SCRAM-SHA-512 and KRaft's StandardAuthorizer (no ACL, no
# access). The first start makes a local CA and broker certificate (openssl; one for every node)
# and an `admin` principal, and writes that principal's client settings to $KAFKA_STATE/admin.json
# (mode 0600): the JSON of `engine.tools toegang`, which uses it to create every other principal.
# KAFKA_INSECURE=1 starts a plaintext broker without authentication instead (experiments only).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # "&" in a substituted value stays "&"

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-9092}
state=${KAFKA_STATE:-$root/.local/kafka}
nodes=${KAFKA_NODES:-1}
libs=$root/.local/kafka-libs
tls=$state/tls
secure=1
if [ "${KAFKA_INSECURE:-0}" = 1 ]; then secure=0; fi

log() { echo "kafka.sh: $*" >&2; }

case "$nodes" in ''|*[!0-9]*|0) log "KAFKA_NODES must be a number of nodes, 1 or more"; exit 2 ;; esac
selected=$(seq 1 "$nodes")
if [ -n "${KAFKA_NODE:-}" ]; then
  case "$KAFKA_NODE" in *[!0-9]*) log "KAFKA_NODE must be a node number"; exit 2 ;; esac
  if [ "$KAFKA_NODE" -lt 1 ] || [ "$KAFKA_NODE" -gt "$nodes" ]; then
    log "KAFKA_NODE=$KAFKA_NODE: the cluster has nodes 1..$nodes (KAFKA_NODES)"; exit 2
  fi
  selected=$KAFKA_NODE
fi

# Where node $1 lives: one node keeps the single broker's layout; a cluster a directory per node.
node_dir() { if [ "$nodes" = 1 ]; then echo "$state"; else echo "$state/node-$1"; fi; }
client_port() { echo $((port + 2 * ($1 - 1))); }
controller_port() { echo $((port + 2 * ($1 - 1) + 1)); }
pidfile() { echo "$(node_dir "$1")/kafka.pid"; }
name() { if [ "$nodes" = 1 ]; then echo "broker"; else echo "node $1"; fi; }
who() { if [ "$nodes" != 1 ]; then echo "node $1 "; fi; }  # before a message's verb

running() {
  local pidfile; pidfile=$(pidfile "$1")
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

accepting() {
  (exec 3<>"/dev/tcp/127.0.0.1/$(client_port "$1")") 2>/dev/null
}

# Every node's client address, comma-separated: a client's bootstrap servers.
bootstrap() {
  local i out=""
  for i in $(seq 1 "$nodes"); do out="$out${out:+,}127.0.0.1:$(client_port "$i")"; done
  echo "$out"
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
      printf '{"bootstrap_servers": "%s", "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "admin", "sasl_plain_password": "%s", "ssl_cafile": "%s"}\n' \
        "$(bootstrap)" "$(admin_password)" "$tls/ca.crt" > "$state/admin.json"
    else
      printf '{"bootstrap_servers": "%s", "security_protocol": "PLAINTEXT"}\n' "$(bootstrap)" > "$state/admin.json"
    fi
  )
}

# Sets `java`: the JVM command line of node $1 (its logs in its own directory).
java_of() {
  java=(java -Xms256m -Xmx1g -cp "$libs/*"
        -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$(node_dir "$1")/logs")
}

# Node $1's server.properties, filled in by bash, not sed: the admin password must never be a
# process argument (ps shows those).
write_config() {
  local i=$1 dir listeners="$here/plaintext.properties.in" voters="" v config
  dir=$(node_dir "$i")
  if [ "$secure" = 1 ]; then listeners="$here/security.properties.in"; fi
  for v in $(seq 1 "$nodes"); do voters="$voters${voters:+,}$v@127.0.0.1:$(controller_port "$v")"; done
  local replication=$((nodes < 3 ? nodes : 3))
  local min_isr=$((replication > 2 ? 2 : 1))  # a write survives one node down at 3, as in production
  config=$(cat "$here/server.properties.in" "$listeners")
  # KAFKA_EXTRA_PROPERTIES: more key=value lines, e.g. the tests' fast retention and cleaner checks.
  if [ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]; then config="$config"$'\n'"$KAFKA_EXTRA_PROPERTIES"; fi
  config=${config//@NODE_ID@/$i}
  config=${config//@VOTERS@/$voters}
  config=${config//@REPLICATION@/$replication}
  config=${config//@MIN_ISR@/$min_isr}
  config=${config//@PORT@/$(client_port "$i")}
  config=${config//@CONTROLLER_PORT@/$(controller_port "$i")}
  config=${config//@DATA@/$dir/data}
  config=${config//@TLS@/$tls}
  config=${config//@ADMIN_PASSWORD@/$(admin_password)}
  (umask 077; printf '%s\n' "$config" > "$dir/server.properties")  # it holds the admin password
}

# Format node $1's storage once, with the cluster id $2 (the same for every node).
format() {
  local dir args java; dir=$(node_dir "$1"); args="$dir/format.args"
  java_of "$1"
  if [ -f "$dir/data/meta.properties" ]; then return; fi
  # The tool's arguments from a 0600 file (java @file): the SCRAM password stays out of `ps`.
  (
    umask 077
    printf '%s\n' kafka.tools.StorageTool format -t "$2" -c "$dir/server.properties" > "$args"
    if [ "$secure" = 1 ]; then
      printf '%s\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$(admin_password)]" >> "$args"
    fi
  )
  "${java[@]}" "@$args" > "$dir/logs/format.log" 2>&1
  rm -f "$args"
}

launch() {
  local dir java pin=(); dir=$(node_dir "$1")
  java_of "$1"
  if [ -n "${KAFKA_CPUS:-}" ]; then pin=(taskset -c "$KAFKA_CPUS"); fi
  : > "$dir/logs/server.log"
  # umask 077: the broker's segments hold partners' raw messages; no other local user reads them.
  (umask 077; exec nohup "${pin[@]}" "${java[@]}" kafka.Kafka "$dir/server.properties" \
    > "$dir/logs/stdout.log" 2>&1 < /dev/null) &
  echo $! > "$(pidfile "$1")"
}

# Wait until node $1 serves clients; $2 is the deadline (seconds since the epoch).
ready() {
  local i=$1 dir; dir=$(node_dir "$i")
  while [ "$(date +%s)" -lt "$2" ]; do
    if ! running "$i"; then
      log "$(name "$i") exited during start; last lines of its logs:"
      tail -n 20 "$dir/logs/stdout.log" "$dir/logs/server.log" >&2; exit 1
    fi
    if accepting "$i" && grep -q "Kafka Server started" "$dir/logs/server.log" 2>/dev/null; then
      local how="SASL_SSL, admin settings in $state/admin.json"
      if [ "$secure" = 0 ]; then how="PLAINTEXT, no authentication (KAFKA_INSECURE=1)"; fi
      log "$(who "$i")running on 127.0.0.1:$(client_port "$i") ($how; pid $(cat "$(pidfile "$i")"), state in $dir)"
      return
    fi
    sleep 0.25
  done
  log "$(name "$i") did not become ready in time; see $dir/logs/server.log"; exit 1
}

start() {
  local i todo=()
  for i in $selected; do
    if running "$i" && accepting "$i"; then
      log "$(who "$i")already running on 127.0.0.1:$(client_port "$i") (pid $(cat "$(pidfile "$i")"))"
    elif accepting "$i"; then
      log "port $(client_port "$i") is taken by a process this script did not start"; exit 1
    else
      todo+=("$i")
    fi
  done
  if [ ${#todo[@]} = 0 ]; then return; fi
  resolve_jars
  if [ "${KAFKA_FRESH:-0}" = 1 ]; then
    if [ -n "${KAFKA_NODE:-}" ]; then log "KAFKA_FRESH wipes every node: not with KAFKA_NODE"; exit 2; fi
    rm -rf "$state"
  fi
  mkdir -p -m 700 "$state"
  if [ "$secure" = 1 ]; then
    command -v openssl >/dev/null || { log "openssl is required (apt-get install openssl)"; exit 1; }
    make_tls
  fi
  write_admin_json
  local cluster_id="" java
  java_of 1
  for i in "${todo[@]}"; do
    mkdir -p -m 700 "$(node_dir "$i")" "$(node_dir "$i")/data" "$(node_dir "$i")/logs"
    write_config "$i"
    if [ ! -f "$(node_dir "$i")/data/meta.properties" ] && [ -z "$cluster_id" ]; then
      # Every node of a cluster is formatted with the same id (kept, for a node formatted later).
      if [ -f "$state/cluster.id" ]; then cluster_id=$(cat "$state/cluster.id"); else
        cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
        if [ "$nodes" != 1 ]; then echo "$cluster_id" > "$state/cluster.id"; fi
      fi
    fi
  done
  # Formatting is a JVM each: the nodes' at once.
  local formats=()
  for i in "${todo[@]}"; do format "$i" "$cluster_id" & formats+=($!); done
  for i in "${!formats[@]}"; do
    wait "${formats[$i]}" || { log "formatting $(name "${todo[$i]}") failed; see its logs/format.log"; exit 1; }
  done
  # Every node first, then wait: a node of a quorum is ready only once a majority of voters runs.
  for i in "${todo[@]}"; do launch "$i"; done
  local deadline=$(($(date +%s) + 60 * ${#todo[@]}))
  for i in "${todo[@]}"; do ready "$i" "$deadline"; done
  if [ "$nodes" != 1 ] && [ -z "${KAFKA_NODE:-}" ]; then
    log "cluster of $nodes nodes: bootstrap servers $(bootstrap)"
  fi
}

stop() {
  local i pid pids=()
  # Every node at once: stopped one by one, the last ones wait for a quorum that is gone.
  for i in $selected; do
    if running "$i"; then
      pid=$(cat "$(pidfile "$i")"); kill "$pid"; pids+=("$i:$pid")
    else
      log "$(who "$i")not running"; rm -f "$(pidfile "$i")"
    fi
  done
  local deadline=$(($(date +%s) + 30)) entry
  for entry in "${pids[@]}"; do
    i=${entry%%:*}; pid=${entry#*:}
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$(name "$i") did not stop within 30 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    else
      log "$(who "$i")stopped"
    fi
    rm -f "$(pidfile "$i")"
  done
}

crash() {
  local i pid
  for i in $selected; do
    if running "$i"; then
      pid=$(cat "$(pidfile "$i")")
      kill -9 "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      log "$(who "$i")killed"
    fi
    rm -f "$(pidfile "$i")"
  done
}

status() {
  local i
  for i in $selected; do running "$i" && accepting "$i" || return 1; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) crash ;;
  status) status ;;
  *) echo "usage: $0 start|stop|kill|status (KAFKA_NODES=n for a cluster, KAFKA_NODE=i for one node)" >&2; exit 2 ;;
esac
