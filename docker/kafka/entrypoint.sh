#!/usr/bin/env bash
# Entrypoint of the `kafka` service in docker/compose.yaml (image apache/kafka:3.9.x).
#
# Why not the image's own /etc/kafka/docker/run: it formats the KRaft metadata log without
# SCRAM credentials, and in KRaft mode the first SCRAM user (the super user that creates
# all the others) can only be bootstrapped by `kafka-storage format --add-scram`. The image
# also has no way to take a password from a file. So this script:
#
#   1. renders server.properties from the KAFKA_* environment, with the image's own mapping
#      (drop KAFKA_, lower case, '_' -> '.', '___' -> '-', '__' -> '_'), refusing any
#      password or JAAS setting there (they must come from secrets, never from compose);
#   2. appends the secret settings, read from /run/secrets: the keystore password and the
#      per-listener JAAS lines (admin password), into a file on the container's tmpfs that
#      only the broker's user can read;
#   3. formats the log directory on first start, bootstrapping User:admin's SCRAM-SHA-512
#      credential (its password appears on that one command line, inside the container,
#      for the second it takes);
#   4. execs the broker.
#
#   entrypoint.sh            start the broker (the compose service)
#   entrypoint.sh --render   print the rendered server.properties with secrets masked, and
#                            exit: no storage is touched (used by the static tests)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ADMIN_USER=${ADMIN_USER:-admin}
RUNTIME_DIR=${RUNTIME_DIR:-/tmp/kafka-runtime}
MASK='********'

# Variables with the KAFKA_ prefix that are JVM or script settings, not broker properties.
NOT_PROPERTIES=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS
 KAFKA_LOG4J_OPTS KAFKA_JMX_OPTS KAFKA_JMX_PORT KAFKA_JMX_HOSTNAME KAFKA_DEBUG KAFKA_VERSION
 KAFKA_HOME KAFKA_BIN KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL "

env_to_key() {
  local key=${1#KAFKA_}
  key=${key,,}
  key=${key//_/.}
  key=${key//.../-}
  key=${key//../_}
  printf '%s' "$key"
}

render_env_properties() {
  local name key
  while read -r name; do
    [[ $name == KAFKA_* ]] || continue
    [[ $NOT_PROPERTIES == *[[:space:]]"$name"[[:space:]]* ]] && continue
    key=$(env_to_key "$name")
    case $key in
      *password* | *jaas* | *secret*)
        die "$name would set '$key' from the environment: secrets come from /run/secrets only" ;;
    esac
    printf '%s=%s\n' "$key" "${!name}"
  done < <(compgen -e | LC_ALL=C sort)
}

# listener_names: the listener names of KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, lower case.
listener_names() {
  local entry
  local -a entries
  IFS=',' read -r -a entries <<<"${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:?KAFKA_LISTENER_SECURITY_PROTOCOL_MAP is required}"
  for entry in "${entries[@]}"; do
    entry=${entry//[[:space:]]/}
    [[ -n $entry ]] && printf '%s\n' "${entry%%:*}"
  done | tr '[:upper:]' '[:lower:]'
}

# render_secret_properties MASKED: the settings that carry secrets. Listeners:
#   controller listener(s)  SASL PLAIN (KRaft cannot use SCRAM there: SCRAM credentials live
#                           in the metadata log the controller serves); server and client
#                           side both User:admin
#   inter-broker listener   SCRAM-SHA-512, client side User:admin
#   every other listener    SCRAM-SHA-512, server side only (the clients)
render_secret_properties() {
  local masked=$1 keystore_password admin_password listener
  local controllers inter_broker
  if [[ $masked == yes ]]; then
    keystore_password=$MASK admin_password=$MASK
  else
    keystore_password=$(read_secret kafka_keystore_password)
    admin_password=$(read_secret kafka_admin_password)
  fi
  controllers=",${KAFKA_CONTROLLER_LISTENER_NAMES:?KAFKA_CONTROLLER_LISTENER_NAMES is required},"
  controllers=${controllers,,}
  inter_broker=${KAFKA_INTER_BROKER_LISTENER_NAME:?KAFKA_INTER_BROKER_LISTENER_NAME is required}
  inter_broker=${inter_broker,,}

  echo "ssl.keystore.password=${keystore_password}"
  echo "ssl.key.password=${keystore_password}"
  while read -r listener; do
    if [[ $controllers == *",${listener},"* ]]; then
      echo "listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"${ADMIN_USER}\" password=\"${admin_password}\" user_${ADMIN_USER}=\"${admin_password}\";"
    elif [[ $listener == "$inter_broker" ]]; then
      echo "listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"${ADMIN_USER}\" password=\"${admin_password}\";"
    else
      echo "listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    fi
  done < <(listener_names)
}

render() {
  local masked=$1
  echo "# Rendered by docker/kafka/entrypoint.sh from the KAFKA_* environment and /run/secrets."
  render_env_properties
  render_secret_properties "$masked"
}

if [[ ${1:-} == --render ]]; then
  render yes
  exit 0
fi

[[ ${CLUSTER_ID:-} =~ ^[A-Za-z0-9_-]{22}$ ]] \
  || die "CLUSTER_ID must be a 22-character base64url id (kafka-storage.sh random-uuid)"
log_dirs=${KAFKA_LOG_DIRS:?KAFKA_LOG_DIRS is required}
first_log_dir=${log_dirs%%,*}

umask 077
mkdir -p "$RUNTIME_DIR"
chmod 700 "$RUNTIME_DIR"
properties="$RUNTIME_DIR/server.properties"
render no >"$properties"

admin_password=$(read_secret kafka_admin_password)

# Client config for the healthcheck: the inter-broker listener, as User:admin.
write_client_properties "$RUNTIME_DIR/admin-client.properties" "$ADMIN_USER" "$admin_password" \
  "${KAFKA_SSL_TRUSTSTORE_LOCATION:?KAFKA_SSL_TRUSTSTORE_LOCATION is required}"

if [[ ! -f "$first_log_dir/meta.properties" ]]; then
  echo "kafka-entrypoint: formatting $log_dirs for cluster $CLUSTER_ID with the $ADMIN_USER SCRAM-SHA-512 credential"
  "$KAFKA_BIN/kafka-storage.sh" format --ignore-formatted \
    --cluster-id "$CLUSTER_ID" --config "$properties" \
    --add-scram "SCRAM-SHA-512=[name=${ADMIN_USER},password=${admin_password}]"
fi
unset admin_password

# No GC log files (kafka-server-start adds -loggc by default): the root filesystem is
# read-only and /tmp is a small tmpfs. Application logs go to stdout (log4j.properties).
export LOG_DIR=${LOG_DIR:-/tmp/kafka-logs}
export EXTRA_ARGS="-name kafkaServer"
exec "$KAFKA_BIN/kafka-server-start.sh" "$properties"
