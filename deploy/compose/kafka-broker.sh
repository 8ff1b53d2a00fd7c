#!/bin/bash
# docker-compose's broker: one KRaft node (broker+controller) that serves clients over SASL_SSL only
# (SCRAM-SHA-512), with the StandardAuthorizer (no ACL: no access), as tools/kafka-local does for a
# local one. The users come from the kafka-users secret (name:password,...; the first is the broker's
# own and the only super user) and get their SCRAM credentials when the storage is formatted; the
# controller listens on loopback only, and the node signs in to it with PLAIN (KRaft controllers cannot
# use SCRAM: its credentials live in the metadata they serve).
set -euo pipefail
IFS=, read -r -a users < /run/secrets/kafka-users
admin=${users[0]%%:*}
admin_password=${users[0]#*:}
store_password=$(cat /etc/kafka-tls/store-password)
conf=/tmp/server.properties
data=/tmp/kafka-data
cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=SASL_SSL://:9092,CONTROLLER://localhost:9093
advertised.listeners=SASL_SSL://kafka:9092
inter.broker.listener.name=SASL_SSL
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$admin" password="$admin_password";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$admin" password="$admin_password" user_$admin="$admin_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=/etc/kafka-tls/broker.p12
ssl.keystore.password=$store_password
ssl.truststore.type=PKCS12
ssl.truststore.location=/etc/kafka-tls/broker.p12
ssl.truststore.password=$store_password
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$admin
allow.everyone.if.no.acl.found=false
log.dirs=$data
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
scram=()
for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]"); done
# A restarted container keeps its data, and the users it was formatted with.
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$conf" "${scram[@]}" >/dev/null
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
