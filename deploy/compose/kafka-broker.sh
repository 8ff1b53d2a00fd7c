#!/bin/bash
# docker-compose's broker: one KRaft node (broker+controller) that serves clients over SASL_SSL only
# (SCRAM-SHA-512), with the StandardAuthorizer (no ACL: no access), secured as tools/kafka-local secures
# a local one (secured-properties.sh). The users come from the kafka-users secret (name:password,...;
# the first is the broker's own and the only super user) and get their SCRAM credentials when the
# storage is formatted; the controller listens on loopback only.
set -euo pipefail
# shellcheck source=../../tools/kafka-local/secured-properties.sh
. /secured-properties.sh
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
$(secured_properties "$admin" "$admin_password" /etc/kafka-tls/broker.p12 /etc/kafka-tls/broker.p12 "$store_password")
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
