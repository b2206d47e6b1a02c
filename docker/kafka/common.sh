# shellcheck shell=bash
# Helpers shared by the kafka service's entrypoint, healthcheck and the kafka-init one-shot.
# Sourced, not executed. Nothing here prints a secret.
#
# Secrets are files (docker secrets, mounted at /run/secrets). SECRETS_DIR overrides that
# location, which is how tests/test_docker_static.py runs these scripts without Docker.

SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# read_secret NAME: print the content of $SECRETS_DIR/NAME without its trailing newline.
# The value ends up inside a Java properties file, a JAAS line and a kafka-configs
# argument, so only characters that need no quoting in any of them are accepted
# (docker/make-secrets.sh generates hex). Refuses short or unreadable secrets.
read_secret() {
  local name=$1 file value
  file="$SECRETS_DIR/$name"
  [[ -r $file ]] || die "secret '$name' is missing or unreadable at $file (see docker/secrets/README.md)"
  value=$(<"$file")
  value=${value%$'\r'}
  if [[ ${#value} -lt 16 ]]; then
    die "secret '$name' is shorter than 16 characters"
  fi
  if [[ ! $value =~ ^[A-Za-z0-9._~+/-]+$ ]]; then
    die "secret '$name' may only contain A-Z a-z 0-9 . _ ~ + / - (generate it with docker/make-secrets.sh)"
  fi
  printf '%s' "$value"
}

# write_client_properties FILE USER PASSWORD CAFILE: a Java client config (admin tools,
# healthcheck) for a SASL_SSL listener with SCRAM-SHA-512, verifying the broker against
# the partnership CA (PEM). Written with mode 0600.
write_client_properties() {
  local file=$1 user=$2 password=$3 cafile=$4
  (
    umask 077
    cat >"$file" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";
ssl.truststore.type=PEM
ssl.truststore.location=${cafile}
ssl.endpoint.identification.algorithm=https
request.timeout.ms=10000
default.api.timeout.ms=15000
EOF
  )
}
