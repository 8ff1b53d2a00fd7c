#!/bin/bash
# Generated from KAFKA_GRANTS (tools/platform/kafka-secured.ts) by `npm run compose:kafka -- --acl-script`: edit
# the grants, not this file. docker-compose.yml runs it once the broker is healthy, as the super user.
set -euo pipefail
acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:9092 --command-config /run/secrets/kafka-admin-client --add "$@" >/dev/null; }
acl --allow-principal User:intake --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:intake --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:intake --topic pinflow.commands.pismo.v1 --operation Write
acl --allow-principal User:intake --topic pinflow.commands.solaris.v1 --operation Write
acl --allow-principal User:intake --topic pinflow.commands.thales-d1.v1 --operation Write
acl --allow-principal User:intake --topic pinflow.commands.vault.v1 --operation Write
acl --allow-principal User:intake --topic pinflow.events.v1 --operation Read --operation Write
acl --allow-principal User:intake --topic pinflow.requests.core-banking.v1 --operation Read
acl --allow-principal User:intake --topic core-banking.pinflow-answers --operation Create --operation Write
acl --allow-principal User:intake --topic pinflow.requests.card-lifecycle.v1 --operation Read
acl --allow-principal User:intake --topic card-lifecycle.pinflow-answers --operation Create --operation Write
acl --allow-principal User:intake --group pinflow-intake --resource-pattern-type prefixed --operation Read
acl --allow-principal User:audit --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:audit --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:audit --topic pinflow.events.v1 --operation Read
acl --allow-principal User:audit --group pinflow-audit --resource-pattern-type prefixed --operation Read
acl --allow-principal User:core-banking --topic pinflow.requests.core-banking.v1 --operation Write
acl --allow-principal User:core-banking --topic core-banking.pinflow-answers --operation Read
acl --allow-principal User:core-banking --group core-banking --resource-pattern-type prefixed --operation Read
acl --allow-principal User:card-lifecycle --topic pinflow.requests.card-lifecycle.v1 --operation Write
acl --allow-principal User:card-lifecycle --topic card-lifecycle.pinflow-answers --operation Read
acl --allow-principal User:card-lifecycle --group card-lifecycle --resource-pattern-type prefixed --operation Read
acl --allow-principal User:worker-pismo --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:worker-pismo --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:worker-pismo --topic pinflow.commands.pismo.v1 --operation Read
acl --allow-principal User:worker-pismo --topic pinflow.events.v1 --operation Write
acl --allow-principal User:worker-pismo --group pinflow-worker-pismo --resource-pattern-type prefixed --operation Read
acl --allow-principal User:worker-pismo --topic pismo.events --operation Describe --operation Create --operation Read
acl --allow-principal User:sandbox-pismo --topic pismo.events --operation Describe --operation Create --operation Write
acl --allow-principal User:worker-solaris --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:worker-solaris --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:worker-solaris --topic pinflow.commands.solaris.v1 --operation Read
acl --allow-principal User:worker-solaris --topic pinflow.events.v1 --operation Write
acl --allow-principal User:worker-solaris --group pinflow-worker-solaris --resource-pattern-type prefixed --operation Read
acl --allow-principal User:worker-thales-d1 --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:worker-thales-d1 --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:worker-thales-d1 --topic pinflow.commands.thales-d1.v1 --operation Read
acl --allow-principal User:worker-thales-d1 --topic pinflow.events.v1 --operation Write
acl --allow-principal User:worker-thales-d1 --group pinflow-worker-thales-d1 --resource-pattern-type prefixed --operation Read
acl --allow-principal User:worker-vault --topic pinflow. --resource-pattern-type prefixed --operation Describe --operation Create
acl --allow-principal User:worker-vault --topic pinflow.deadletter.v1 --operation Write
acl --allow-principal User:worker-vault --topic pinflow.commands.vault.v1 --operation Read
acl --allow-principal User:worker-vault --topic pinflow.events.v1 --operation Write
acl --allow-principal User:worker-vault --group pinflow-worker-vault --resource-pattern-type prefixed --operation Read
echo "ACLs granted"
