#!/usr/bin/env bash
# Real Apache Kafka, one KRaft node on 127.0.0.1, assembled from Maven Central jars.
# Usage: deploy/local/kafka.sh {fetch|start|stop|status}   (idempotent)
# A second broker beside the first: KAFKA_PORT, KAFKA_CONTROLLER_PORT and KAFKA_RUN_DIR (its
# own config, data, pid and log; the downloaded jars stay shared in the cache).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${SIKERJA_CACHE:-$ROOT/.cache}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.25.3"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
RUN="${KAFKA_RUN_DIR:-$CACHE/kafka-run}"
DATA="$RUN/data"
PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
PIDFILE="$RUN/kafka.pid"

log() { echo "[kafka] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch() {
  if [[ -f "$LIBS/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required"; exit 1; }
  mkdir -p "$LIBS" "$CACHE/kafka-pom"
  cat > "$CACHE/kafka-pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sikerja</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  mvn -B -q -f "$CACHE/kafka-pom/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
}

configure() {
  mkdir -p "$RUN" "$DATA"
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=168
PROPS
  cat > "$RUN/log4j2.properties" <<L4J
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=FILE
appender.file.type=File
appender.file.name=FILE
appender.file.fileName=$RUN/kafka.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=%d %p %c{1} %m%n
L4J
  if [[ ! -f "$DATA/meta.properties" ]]; then
    local id
    id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java -cp "$LIBS/*" -Dlog4j2.configurationFile="$RUN/log4j2.properties" kafka.tools.StorageTool \
      format --standalone -t "$id" -c "$RUN/server.properties" >/dev/null
  fi
}

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  # One start at a time per run folder: two concurrent starts (two test runs) would launch a
  # second JVM that dies on the first one's data lock and leave its dead pid in the pid file.
  mkdir -p "$(dirname "$RUN")"
  exec 9>"$RUN.lock"
  flock 9
  if running && port_open "$PORT"; then log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; return 0; fi
  if port_open "$PORT"; then log "something already listens on 127.0.0.1:$PORT; using it"; return 0; fi
  local alive
  alive=$(pgrep -f "kafka.Kafka $RUN/server.properties" | head -1 || true)
  if [[ -n "$alive" ]]; then
    # a broker of this folder is up but not listening yet (recovering its logs): wait for it
    echo "$alive" > "$PIDFILE"; log "broker of this folder still starting (pid $alive)"; wait_ready; return 0
  fi
  fetch
  configure
  log "starting on 127.0.0.1:$PORT"
  nohup java -Xms256m -Xmx${KAFKA_HEAP:-768m} -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
    -cp "$LIBS/*" -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
    kafka.Kafka "$RUN/server.properties" >"$RUN/stdout.log" 2>&1 9>&- &
  echo $! > "$PIDFILE"
  wait_ready
}

wait_ready() {
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  while (( SECONDS < deadline )); do
    if ! running; then log "broker exited; see $RUN/stdout.log"; tail -20 "$RUN/stdout.log" >&2; exit 1; fi
    if port_open "$PORT" && "$ROOT/deploy/local/kafka_ready.py" "127.0.0.1:$PORT" 2>/dev/null; then
      log "ready"; return 0
    fi
    sleep 0.5
  done
  log "not ready after timeout"; exit 1
}

stop() {
  if ! running; then
    if port_open "$PORT"; then log "127.0.0.1:$PORT dimulai di luar SIKERJA ini; dibiarkan berjalan"
    else log "not running"; fi
    rm -f "$PIDFILE"; return 0
  fi
  local pid; pid=$(cat "$PIDFILE")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$PIDFILE"; log "stopped"
}

# What is true: `start` uses any broker already listening on the port, so status says so too.
status() {
  if running && port_open "$PORT"; then
    echo "kafka: berjalan di 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
  elif port_open "$PORT"; then
    echo "kafka: berjalan di 127.0.0.1:$PORT (dimulai di luar SIKERJA ini; \`down\` tidak menghentikannya)"
  else
    echo "kafka: berhenti"; return 1
  fi
}

case "${1:-start}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {fetch|start|stop|status}"; exit 2 ;;
esac
