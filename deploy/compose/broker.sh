#!/bin/sh
# A compose broker (KRaft, broker and controller in one, three voters), secured like
# deploy/local/kafka.sh's: SCRAM-SHA-512 over TLS for clients and between brokers, TLS with
# client certificates on the controller listener, StandardAuthorizer with no ACL meaning no access.
# NODE_ID and CLUSTER_ID come from compose.yaml; secrets from init.sh in /secrets.
set -eu
: "${NODE_ID:?}" "${CLUSTER_ID:?}"
conf=/var/lib/kafka/data/server.properties
umask 077
# The password goes into the properties file only (not into a process argument of the broker).
cat > "$conf" <<PROPERTIES
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=1@kafka-1:9094,2@kafka-2:9094,3@kafka-3:9094
controller.listener.names=CONTROLLER
listeners=SASL_SSL://:9093,CONTROLLER://:9094
advertised.listeners=SASL_SSL://kafka-$NODE_ID:9093
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat /secrets/admin.password)";
ssl.keystore.type=PEM
ssl.keystore.location=/secrets/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=/secrets/ca.crt
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:CN=riec-broker
log.dirs=/var/lib/kafka/data/log
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=8
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
if [ ! -f /var/lib/kafka/data/log/meta.properties ]; then
  # The SCRAM users exist from the first start (KRaft bootstraps them at format time). The
  # passwords are arguments of this one short-lived process, inside the container only.
  /opt/kafka/bin/kafka-storage.sh format -t "$CLUSTER_ID" -c "$conf" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$(cat /secrets/admin.password)]" \
    --add-scram "SCRAM-SHA-512=[name=engine,password=$(cat /secrets/engine.password)]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
