#!/usr/bin/env bash
# `make cluster`: a local three-broker cluster (deploy/local/kafka.sh with KAFKA_NODES=3, secured
# like the single broker) and WORKERS engine workers on it, all on loopback; Prometheus and Grafana
# too when they are installed on the machine. `cluster.sh stop` (`make cluster-stop`) stops the
# workers, then Prometheus and Grafana, then the brokers.
#
# Environment: WORKERS (3), KAFKA_PORT (9192: the nodes listen on 9192, 9194, 9196 and their
# controllers on the port after each), KAFKA_STATE (.local/kafka-cluster), ENGINE_WEB_PORT (6166:
# worker i serves /health, /metrics and the API on ENGINE_WEB_PORT + i - 1). Worker i runs as
# ENGINE_WORKER_ID cluster-worker-i with ENGINE_REPLICATION_FACTOR 3; its log, pid and data are in
# .local/cluster/. Every other ENGINE_* of the README applies to all workers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
py=.venv/bin/python
state=.local
run=$state/cluster
workers=${WORKERS:-3}
web_port=${ENGINE_WEB_PORT:-6166}
export KAFKA_NODES=3 KAFKA_PORT=${KAFKA_PORT:-9192}
export KAFKA_STATE=${KAFKA_STATE:-$root/.local/kafka-cluster}
export KAFKA_ADMIN_CONFIG=$KAFKA_STATE/admin.json  # the tools below create principals on this cluster
unset KAFKA_NODE

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# SIGTERM to every process of these pid files at once, then wait; SIGKILL after 30 s.
stop_all() {
  local f pids=()
  for f in "$@"; do
    if alive "$f"; then kill "$(cat "$f")"; pids+=("$f"); else rm -f "$f"; fi
  done
  for f in "${pids[@]}"; do
    local pid; pid=$(cat "$f")
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; echo "$(basename "$f" .pid) killed after 30 s"; else
      echo "$(basename "$f" .pid) stopped"; fi
    rm -f "$f"
  done
}

if [ "${1:-}" = stop ]; then
  # Workers first, while the brokers are up: they leave their groups and abort open transactions.
  shopt -s nullglob
  stop_all "$run"/worker-*.pid
  stop_all "$run"/prometheus.pid "$run"/grafana.pid
  deploy/local/kafka.sh stop
  exit 0
fi
[ "${1:-}" = start ] || { echo "usage: $0 start|stop" >&2; exit 2; }
case "$workers" in ''|*[!0-9]*) echo "WORKERS must be a number" >&2; exit 2 ;; esac

deploy/local/kafka.sh start
mkdir -p "$run"
source deploy/local/engine-env.sh  # KAFKA_* as the engine principal, the pseudonym key, tokens
export ENGINE_REPLICATION_FACTOR=3

health() { "$py" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/health', timeout=1)" 2>/dev/null; }

for i in $(seq 1 "$workers"); do
  pidfile=$run/worker-$i.pid
  if alive "$pidfile"; then echo "worker $i already running (pid $(cat "$pidfile"))"; continue; fi
  ENGINE_WORKER_ID=cluster-worker-$i ENGINE_WEB_PORT=$((web_port + i - 1)) \
    ENGINE_DATA_DIR=$root/$run/worker-$i \
    nohup "$py" -m engine worker -l info > "$run/worker-$i.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  echo "worker $i starting (pid $!, log in $run/worker-$i.log) ..."
done
for i in $(seq 1 "$workers"); do
  for _ in $(seq 1 240); do
    if health $((web_port + i - 1)); then break; fi
    alive "$run/worker-$i.pid" || { echo "worker $i exited; last lines of $run/worker-$i.log:"; tail -n 30 "$run/worker-$i.log"; exit 1; }
    sleep 0.5
  done
  health $((web_port + i - 1)) || { echo "worker $i not healthy after 120 s; see $run/worker-$i.log"; exit 1; }
  echo "worker $i healthy on http://127.0.0.1:$((web_port + i - 1))"
done

# Prometheus and Grafana only when installed here: configured for these workers, on loopback.
observe() {
  if command -v prometheus >/dev/null; then
    if ! alive "$run/prometheus.pid"; then
      mkdir -p "$run/prometheus"
      (umask 077; token_of ops > "$run/prometheus/ops-token")
      local targets="" i
      for i in $(seq 1 "$workers"); do targets="$targets${targets:+, }\"127.0.0.1:$((web_port + i - 1))\""; done
      sed -e "s|credentials_file: .*|credentials_file: $root/$run/prometheus/ops-token|" \
          -e "s|targets: .*|targets: [$targets]|" \
          -e "s|  - alerts.yml|  - $root/deploy/prometheus/alerts.yml|" \
          deploy/prometheus/prometheus.yml > "$run/prometheus/prometheus.yml"
      nohup prometheus --config.file="$run/prometheus/prometheus.yml" --storage.tsdb.path="$run/prometheus/data" \
        --web.listen-address=127.0.0.1:9090 > "$run/prometheus.log" 2>&1 < /dev/null &
      echo $! > "$run/prometheus.pid"
    fi
    echo "Prometheus on http://127.0.0.1:9090 (log in $run/prometheus.log)"
  else
    echo "Prometheus skipped: not installed on this machine (deploy/prometheus/ holds its configuration)"
  fi
  local grafana=()
  if command -v grafana >/dev/null; then grafana=(grafana server); elif command -v grafana-server >/dev/null; then grafana=(grafana-server); fi
  if [ ${#grafana[@]} -gt 0 ]; then
    if ! alive "$run/grafana.pid"; then
      local prov=$run/grafana/provisioning
      mkdir -p "$prov/datasources" "$prov/dashboards"
      sed -e "s|url: .*|url: http://127.0.0.1:9090|" deploy/grafana/provisioning/datasources/* > "$prov/datasources/prometheus.yml"
      sed -e "s|path: .*|path: $root/deploy/grafana/dashboards|" deploy/grafana/provisioning/dashboards/* > "$prov/dashboards/riec-engine.yml"
      GF_PATHS_PROVISIONING=$root/$prov GF_PATHS_DATA=$root/$run/grafana/data GF_SERVER_HTTP_ADDR=127.0.0.1 \
        GF_SERVER_HTTP_PORT=3000 nohup "${grafana[@]}" --homepath "${GRAFANA_HOME:-/usr/share/grafana}" \
        > "$run/grafana.log" 2>&1 < /dev/null &
      echo $! > "$run/grafana.pid"
    fi
    echo "Grafana on http://127.0.0.1:3000 (admin/admin on first login; log in $run/grafana.log)"
  else
    echo "Grafana skipped: not installed on this machine (deploy/grafana/ holds its dashboard and provisioning)"
  fi
}
observe

cat <<MSG

Cluster: brokers $("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['bootstrap_servers'])" "$KAFKA_ADMIN_CONFIG"); $workers workers on http://127.0.0.1:$web_port..$((web_port + workers - 1))
  traffic     KAFKA_ADMIN_CONFIG=$KAFKA_ADMIN_CONFIG .venv/bin/python -m engine.tools sample
  dashboard   http://127.0.0.1:$web_port/dashboard#riec=oost-nederland&token=$(token_of riec:oost-nederland)
  metrics     curl -H "Authorization: Bearer $(token_of ops)" http://127.0.0.1:$web_port/metrics
  a topic     KAFKA_ADMIN_CONFIG=$KAFKA_ADMIN_CONFIG .venv/bin/python -m engine.tools tail routes.riec.rotterdam
  one broker  KAFKA_NODES=3 KAFKA_NODE=2 KAFKA_PORT=$KAFKA_PORT KAFKA_STATE=$KAFKA_STATE deploy/local/kafka.sh kill|start
  logs        $run/worker-*.log, $KAFKA_STATE/node-*/logs/server.log
'make cluster-stop' stops the workers, then the brokers.
MSG
