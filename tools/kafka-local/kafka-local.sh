#!/usr/bin/env bash
# Single-node Apache Kafka 4.x (KRaft, combined broker+controller) on 127.0.0.1 from Maven Central jars,
# for machines without Docker. Jars are fetched once into lib/ (Maven reuses ~/.m2 between runs).
# usage: kafka-local.sh fetch|start|resume|stop|kill
#   start wipes the data and formats afresh; resume restarts on the existing data; kill is a crash
#   KAFKA_PORT / KAFKA_CONTROLLER_PORT  listener ports (9092 / 9093), so tests can run their own broker
#   KAFKA_STATE_DIR                     where config, data, logs and the pid file live (wiped on start)
set -euo pipefail
KHOME=$(cd "$(dirname "$0")" && pwd)             # holds pom.xml; lib/ is created by `fetch`
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
STATE=${KAFKA_STATE_DIR:-$KHOME/../../.pinflow/kafka}
DATA=$STATE/data
CONF=$STATE/config
LOGS=$STATE/logs
PIDF=$STATE/kafka.pid
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
CP="$KHOME/lib/*"                                # quoted: the JVM expands lib/*, not the shell
# Any valid 22-char base64url UUID; this is the default of the official apache/kafka image.
CLUSTER_ID=${KAFKA_CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}
PERF_OPTS="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"

fetch() {
  if ls "$KHOME"/lib/kafka_2.13-*.jar "$KHOME"/lib/log4j-slf4j-impl-*.jar >/dev/null 2>&1; then return 0; fi
  (cd "$KHOME" && mvn -B -q package)             # runs dependency:copy-dependencies -> lib/
  ls "$KHOME"/lib/kafka_2.13-*.jar "$KHOME"/lib/log4j-slf4j-impl-*.jar >/dev/null
}

write_config() {
  mkdir -p "$CONF" "$LOGS"
  # NB: .properties files have no trailing comments: keep comments on their own lines.
  cat > "$CONF/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
# pinflow creates its topics itself, with partition counts from its config
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# optional, test-speed/footprint tweaks (defaults: 50, 50, 134217728, 3, 8, 2)
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
log.cleaner.dedupe.buffer.size=33554432
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
PROPS
  cat > "$CONF/log4j2.properties" <<'L4J'
status = warn
name = kafka-broker
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.reqchan.name = kafka.network.RequestChannel$
logger.reqchan.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
L4J
  cat > "$CONF/tools-log4j2.properties" <<'L4J'
status = error
name = kafka-tools
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
L4J
}

wait_ready() {   # the client port is bound only once the broker is unfenced and serving requests
  local pid deadline
  pid=$(cat "$PIDF"); deadline=$((SECONDS + ${1:-90}))
  until (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka exited during startup" >&2; tail -n 100 "$LOGS/kafka.out" >&2; return 1
    fi
    if (( SECONDS >= deadline )); then
      echo "timeout waiting for 127.0.0.1:$PORT" >&2; tail -n 100 "$LOGS/kafka.out" >&2; return 1
    fi
    sleep 0.5
  done
  echo "kafka ready on 127.0.0.1:$PORT (pid $pid, ${SECONDS}s since script start)"
}

start() {
  fetch
  write_config
  rm -rf "${DATA:?}"; mkdir -p "$DATA"
  "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$CONF/tools-log4j2.properties" -cp "$CP" \
    kafka.tools.StorageTool format --standalone -t "$CLUSTER_ID" -c "$CONF/server.properties"
  launch
}

# Starts the broker again on the data it has (after stop or kill), as a restarted pod would.
resume() {
  [ -d "$DATA" ] || { echo "no broker data in $DATA: use start" >&2; return 1; }
  launch
}

launch() {
  nohup "$JAVA" $HEAP_OPTS $PERF_OPTS \
    -Dlog4j2.configurationFile="$CONF/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$CP" kafka.Kafka "$CONF/server.properties" > "$LOGS/kafka.out" 2>&1 < /dev/null &
  echo $! > "$PIDF"
  wait_ready "${KAFKA_START_TIMEOUT:-90}"
}

stop() {
  [ -f "$PIDF" ] || { echo "not running (no $PIDF)"; return 0; }
  local pid; pid=$(cat "$PIDF")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"                           # same signal kafka-server-stop.sh sends
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then echo "still alive after 30s, SIGKILL" >&2; kill -KILL "$pid"; fi
  fi
  rm -f "$PIDF"
}

# A crash: no shutdown, no flush (failure drills).
kill_broker() {
  [ -f "$PIDF" ] || return 0
  kill -KILL "$(cat "$PIDF")" 2>/dev/null || true
  rm -f "$PIDF"
}

case "${1:-}" in
  fetch) fetch ;;
  start)  start ;;
  resume) resume ;;
  stop)   stop ;;
  kill)   kill_broker ;;
  *) echo "usage: $0 fetch|start|resume|stop|kill" >&2; exit 2 ;;
esac
