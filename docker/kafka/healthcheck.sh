#!/usr/bin/env bash
# Healthcheck of the `kafka` service: an authenticated round trip (TLS, SCRAM-SHA-512 as
# User:admin, metadata loaded) on the broker's inter-broker listener, which listens on the
# container's loopback only. The client config was written by entrypoint.sh on the tmpfs.
set -euo pipefail
RUNTIME_DIR=${RUNTIME_DIR:-/tmp/kafka-runtime}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
# A small heap for this short-lived tool, not the broker's.
export KAFKA_HEAP_OPTS="-Xms32m -Xmx128m"
exec "$KAFKA_BIN/kafka-broker-api-versions.sh" \
  --bootstrap-server "${HEALTHCHECK_BOOTSTRAP:-localhost:9092}" \
  --command-config "$RUNTIME_DIR/admin-client.properties" >/dev/null
