# A single-node Apache Kafka 3.9.1 broker in KRaft mode, on 127.0.0.1 only,
# for the bridge's tests and bench. Sourced; needs $KAFKA_CACHE (a directory
# in the build tree). The jars come from Maven Central through Debian's
# maven, once, into $KAFKA_CACHE/jars (never into the source tree).
#   kafka_fetch          jars, or "skipped: <reason>" and exit 77
#   kafka_start          formats a new data directory and starts the broker;
#                        sets KAFKA_BOOTSTRAP and KAFKA_PID
#   kafka_kill           SIGKILL, as a crash
#   kafka_restart        starts it again on the same data and ports
#   kafka_stop           SIGTERM, waits, removes the data (call it on exit)
_kafka_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kafka_skip() {
  echo "skipped: $*"
  exit 77
}

kafka_fetch() {
  : "${KAFKA_CACHE:?}"
  command -v java > /dev/null || kafka_skip "no java (apt-get install openjdk-17-jdk-headless)"
  command -v mvn > /dev/null || kafka_skip "no mvn to fetch the Kafka broker (apt-get install maven)"
  [ -f "$KAFKA_CACHE/jars/.complete" ] && return 0
  mkdir -p "$KAFKA_CACHE"
  echo "fetching Apache Kafka 3.9.1 from Maven Central into $KAFKA_CACHE" >&2
  if ! mvn -B -q -f "$_kafka_here/broker-pom.xml" -Dmaven.repo.local="$KAFKA_CACHE/m2" \
      dependency:copy-dependencies -DoutputDirectory="$KAFKA_CACHE/jars" > "$KAFKA_CACHE/fetch.log" 2>&1; then
    tail -5 "$KAFKA_CACHE/fetch.log" >&2
    kafka_skip "the Kafka broker's jars could not be fetched from Maven Central (log: $KAFKA_CACHE/fetch.log)"
  fi
  touch "$KAFKA_CACHE/jars/.complete"
}

_kafka_port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

_kafka_wait_up() {
  for _ in $(seq 1 240); do
    if ! kill -0 "$KAFKA_PID" 2> /dev/null; then
      tail -20 "$KAFKA_DIR/broker.log" >&2
      echo "FAIL: the Kafka broker exited" >&2
      return 1
    fi
    (exec 3<> "/dev/tcp/127.0.0.1/$KAFKA_PORT") 2> /dev/null && return 0
    sleep 0.25
  done
  echo "FAIL: the Kafka broker did not listen within 60 s" >&2
  return 1
}

_kafka_run() {
  # Small heap: the broker shares 2 cores and the memory with the tests.
  java -Xms256m -Xmx768m -XX:+UseG1GC -cp "$KAFKA_CACHE/jars/*" \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    kafka.Kafka "$KAFKA_DIR/server.properties" >> "$KAFKA_DIR/broker.log" 2>&1 &
  KAFKA_PID=$!
  _kafka_wait_up
}

kafka_start() {
  KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/roche-kafka.XXXXXX")
  for _ in $(seq 1 50); do
    KAFKA_PORT=$((20000 + RANDOM % 20000))
    KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
    _kafka_port_free "$KAFKA_PORT" && _kafka_port_free "$KAFKA_CONTROLLER_PORT" && break
  done
  cat > "$KAFKA_DIR/server.properties" << PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat > "$KAFKA_DIR/log4j.properties" << 'PROPS'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.ConsoleAppender
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  java -cp "$KAFKA_CACHE/jars/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    kafka.tools.StorageTool format -t "$(java -cp "$KAFKA_CACHE/jars/*" kafka.tools.StorageTool random-uuid 2> /dev/null)" \
    -c "$KAFKA_DIR/server.properties" >> "$KAFKA_DIR/broker.log" 2>&1
  KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
  _kafka_run
}

kafka_kill() {
  kill -KILL "$KAFKA_PID" 2> /dev/null || true
  wait "$KAFKA_PID" 2> /dev/null || true
}

kafka_restart() { _kafka_run; }

kafka_stop() {
  if [ -n "${KAFKA_PID:-}" ] && kill -0 "$KAFKA_PID" 2> /dev/null; then
    kill -TERM "$KAFKA_PID" 2> /dev/null || true
    for _ in $(seq 1 60); do kill -0 "$KAFKA_PID" 2> /dev/null || break; sleep 0.5; done
    kill -KILL "$KAFKA_PID" 2> /dev/null || true
    wait "$KAFKA_PID" 2> /dev/null || true
  fi
  [ -n "${KAFKA_DIR:-}" ] && rm -rf "$KAFKA_DIR"
  KAFKA_PID=
}
