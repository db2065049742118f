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
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-9092}
controller_port=$((port + 1))
state=${KAFKA_STATE:-$root/.local/kafka}
libs=$root/.local/kafka-libs
pidfile=$state/kafka.pid

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
  mkdir -p "$state/data" "$state/logs"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@DATA@|$state/data|g" "$here/server.properties.in" > "$state/server.properties"
  local java=(java -Xms256m -Xmx1g -cp "$libs/*"
              -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$state/logs")
  if [ ! -f "$state/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" \
      > "$state/logs/format.log" 2>&1
  fi
  local pin=()
  if [ -n "${KAFKA_CPUS:-}" ]; then pin=(taskset -c "$KAFKA_CPUS"); fi
  : > "$state/logs/server.log"
  nohup "${pin[@]}" "${java[@]}" kafka.Kafka "$state/server.properties" \
    > "$state/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 240); do
    if ! running; then
      log "broker exited during start; last lines of its logs:"
      tail -n 20 "$state/logs/stdout.log" "$state/logs/server.log" >&2; exit 1
    fi
    if accepting && grep -q "Kafka Server started" "$state/logs/server.log" 2>/dev/null; then
      log "running on 127.0.0.1:$port (pid $(cat "$pidfile"), state in $state)"
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
