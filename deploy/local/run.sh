#!/usr/bin/env bash
# `make run`: start the engine in the background on the local broker, publish sample traffic and
# show where it went. `run.sh stop` stops the engine; `run.sh worker` runs it in the foreground
# (`make worker`). The broker is started by `make kafka` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
py=.venv/bin/python
state=.local
pidfile=$state/engine.pid
port=${ENGINE_WEB_PORT:-6066}

engine_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  if engine_running; then
    # Wait for it to leave its groups and close its transactions while the broker is still up
    # (make stop stops the broker next); a worker that does not exit in 30 s is killed.
    pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    echo "engine stopped"
  fi
  rm -f "$pidfile"; exit 0
fi

mkdir -p "$state"
source deploy/local/engine-env.sh  # KAFKA_* as the engine principal, the pseudonym key, tokens

if [ "${1:-}" = worker ]; then
  exec "$py" -m engine worker -l info
fi

if engine_running; then
  echo "engine already running (pid $(cat "$pidfile"))"
else
  nohup "$py" -m engine worker -l info > "$state/engine.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  echo "engine starting (pid $!, log in $state/engine.log) ..."
fi
for _ in $(seq 1 120); do
  if "$py" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
    break
  fi
  engine_running || { echo "engine exited; last lines of $state/engine.log:"; tail -n 30 "$state/engine.log"; exit 1; }
  sleep 0.5
done
echo "engine healthy on http://127.0.0.1:$port"

since_ms=$("$py" -c 'import time; print(int(time.time() * 1000))')
"$py" -m engine.tools sample --count "${SAMPLE_COUNT:-2000}" --rate "${SAMPLE_RATE:-500}"
sleep 3
echo
echo "Where this run's signals went (read back from the route topics):"
"$py" -m engine.tools summary --since-ms "$since_ms"
cat <<MSG

Where to look:
  dashboard   http://127.0.0.1:$port/dashboard#riec=oost-nederland&token=$(token_of riec:oost-nederland)
  API         curl -H "Authorization: Bearer $(token_of liec)" http://127.0.0.1:$port/api/v1/jaarverslag/$(date +%Y)
              (a token per RIEC, LFT, the LIEC and ops in $ENGINE_TOKENS_FILE)
  onboard     .venv/bin/python -m engine.tools toegang riec:rotterdam   (a principal's Kafka client settings)
  replay      ENGINE_OPS_TOKEN=$(token_of ops) .venv/bin/python -m engine.tools replay
  metrics     curl -H "Authorization: Bearer $(token_of ops)" http://127.0.0.1:$port/metrics
  health      http://127.0.0.1:$port/health
  a topic     .venv/bin/python -m engine.tools tail routes.riec.rotterdam --show 5
  by hand     .venv/bin/python -m engine.tools publish --org gm0363 docs/examples/signaal.json
  a command   .venv/bin/python -m engine.tools opdracht --riec rotterdam --type nl.riec.casus.openen.v1 docs/examples/casus-openen.json
  engine log  $state/engine.log
The engine keeps running; 'make stop' stops it and the broker.
MSG
