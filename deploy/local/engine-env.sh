# Sourced by run.sh and cluster.sh (from the repository root, with `py` and `state` set): the
# environment of an engine worker on a local broker. Exports KAFKA_* as the engine principal (unless
# set), a local pseudonym key (unless ENGINE_PSEUDONYM_KEY(_FILE) is set) and ENGINE_TOKENS_FILE;
# defines token_of <principal>. The broker is the one of KAFKA_ADMIN_CONFIG (default .local/kafka).
#
# The engine connects as its own principal. On the local broker it is created once (with its ACLs)
# and kept beside the admin's settings (.local/kafka/toegang/engine.json); a deployment sets
# KAFKA_* itself (README).
if [ -z "${KAFKA_SASL_USERNAME:-}" ] && [ -z "${KAFKA_SECURITY_PROTOCOL:-}" ]; then
  eval "$("$py" -m engine.tools toegang engine --formaat env --bewaar)"
fi
if [ -z "${ENGINE_PSEUDONYM_KEY:-}" ] && [ -z "${ENGINE_PSEUDONYM_KEY_FILE:-}" ]; then
  if [ ! -f "$state/pseudonym.key" ]; then
    # umask 077 in a subshell: the file is created 0600, never readable by others, not even briefly.
    (umask 077 && set -o noclobber && "$py" -c 'import secrets; print(secrets.token_hex(32))' > "$state/pseudonym.key")
    echo "created a local pseudonym key in $state/pseudonym.key (this machine only; a real"
    echo "deployment takes ENGINE_PSEUDONYM_KEY(_FILE) from its secret store)"
  else
    chmod 600 "$state/pseudonym.key"  # made by an older run.sh, which wrote it world-readable first
    echo "using the local pseudonym key in $state/pseudonym.key"
  fi
  export ENGINE_PSEUDONYM_KEY_FILE=$root/$state/pseudonym.key
fi

export ENGINE_TOKENS_FILE=${ENGINE_TOKENS_FILE:-$root/$state/tokens.json}
"$py" -m engine.tools tokens "$ENGINE_TOKENS_FILE"
token_of() { "$py" -c "import json,sys; print(next(t for t, p in json.load(open(sys.argv[1])).items() if p == sys.argv[2]))" "$ENGINE_TOKENS_FILE" "$1"; }
