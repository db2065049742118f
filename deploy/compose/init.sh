#!/bin/sh
# One-shot (compose service `init`): the compose cluster's secrets, made once into the `secrets`
# volume: a CA and the brokers' certificate (PEM, as deploy/local/kafka.sh makes them), the admin's
# and the engine's SCRAM passwords, the admin's client settings for kafka-acls.sh, the pseudonym
# key and an `ops` API token (for Prometheus). Files are root:10001 0440: readable by the services
# that run with group 10001 (the engine's image user; the others by group_add), by nobody else.
set -eu
apk add --no-cache openssl >/dev/null
cd /secrets
umask 077
if [ ! -f broker.pem ]; then
  printf 'subjectAltName=DNS:kafka-1,DNS:kafka-2,DNS:kafka-3\nextendedKeyUsage=serverAuth,clientAuth\n' > broker.ext
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj "/CN=riec-engine compose CA" -days 3650 2>/dev/null
  # CN=riec-broker: the brokers' principal on the controller listener (a super user there).
  openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=riec-broker" 2>/dev/null
  openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out broker.crt -days 825 \
    -extfile broker.ext 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
  cat broker.pk8 broker.crt ca.crt > broker.pem
  # The CA's key signs nothing else here: not kept.
  rm -f ca.key ca.srl broker.key broker.csr broker.pk8 broker.ext
fi
secret() { [ -s "$1" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$1"; }
secret admin.password
secret engine.password
secret pseudonym.key
secret ops.token
[ -s tokens.json ] || printf '{"%s": "ops"}\n' "$(cat ops.token)" > tokens.json
if [ ! -s admin.properties ]; then
  {
    echo "security.protocol=SASL_SSL"
    echo "sasl.mechanism=SCRAM-SHA-512"
    echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(cat admin.password)\";"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=/secrets/ca.crt"
  } > admin.properties
fi
chown 0:10001 ./*
chmod 0440 ./*
chmod 0444 ca.crt
echo "secrets in place"
