# shellcheck shell=bash
# Sourced by kafka-local.sh and docker-compose's broker (deploy/compose/kafka-broker.sh), so both secure a
# node the same way: clients and the other brokers on the SASL_SSL listener with SCRAM-SHA-512, the node
# to the controllers as the broker user over SASL_SSL with PLAIN (KRaft controllers cannot use SCRAM: its
# credentials live in the metadata they serve), and the StandardAuthorizer (no ACL: no access) with the
# broker user as the only super user.
# usage: secured_properties ADMIN ADMIN_PASSWORD KEYSTORE TRUSTSTORE STORE_PASSWORD   (PKCS12 stores)
secured_properties() {
  local admin=$1 admin_password=$2 keystore=$3 truststore=$4 store_password=$5
  cat <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$admin" password="$admin_password";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$admin" password="$admin_password" user_$admin="$admin_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=$keystore
ssl.keystore.password=$store_password
ssl.truststore.type=PKCS12
ssl.truststore.location=$truststore
ssl.truststore.password=$store_password
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$admin
allow.everyone.if.no.acl.found=false
PROPS
}
