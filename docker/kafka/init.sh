#!/usr/bin/env bash
# The `kafka-init` one-shot of docker/compose.yaml: run as User:admin (the super user
# bootstrapped by entrypoint.sh) once the broker is healthy. Idempotent: safe to rerun.
#
#   1. SCRAM-SHA-512 users: one per secret file /run/secrets/scram_<user>, whose content is
#      that user's password. The user names are the Kafka principals (User:<user>) that
#      `exchange acl apply` grants topics and groups to, from the partnership config.
#   2. Topics, for every dataset in INIT_DATASETS (comma separated):
#        raw.<d>  keys.raw.<d>  shared.<d>  keys.shared.<d>  restricted.<d>  keys.restricted.<d>
#      and deadletter.sanitiser. auto.create.topics.enable is false on the broker, so a
#      topic that is not made here (or by an operator) does not exist.
#   3. The ACL administrator (INIT_ACL_ADMIN, default acl-admin) may alter and describe the
#      cluster's ACLs, which is what `exchange acl apply` needs and nothing more. It is not a
#      super user: data access for every principal, acl-admin included, comes from ACLs.
#
# INIT_DRY_RUN=1 prints the commands (passwords masked) instead of running them.
set -euo pipefail
umask 077

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BOOTSTRAP=${INIT_BOOTSTRAP:-kafka:9093}
DATASETS=${INIT_DATASETS:-police_crime_offence}
PARTITIONS=${INIT_TOPIC_PARTITIONS:-3}
REPLICATION=${INIT_REPLICATION_FACTOR:-1}
ACL_ADMIN=${INIT_ACL_ADMIN:-acl-admin}
ADMIN_USER=${ADMIN_USER:-admin}
DRY_RUN=${INIT_DRY_RUN:-0}
MASK='********'

[[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "INIT_TOPIC_PARTITIONS must be a positive integer"
[[ $REPLICATION =~ ^[1-9][0-9]*$ ]] || die "INIT_REPLICATION_FACTOR must be a positive integer"
[[ $ACL_ADMIN =~ ^[A-Za-z0-9._-]+$ ]] || die "INIT_ACL_ADMIN is not a valid user name"

work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-init.XXXXXX")
trap 'rm -rf "$work"' EXIT
admin_config="$work/admin.properties"

# run SHOWN_ARGS... -- REAL_ARGS...: print the shown form, run the real one.
run() {
  local -a shown=() real=()
  while [[ $1 != -- ]]; do shown+=("$1"); shift; done
  shift
  real=("$@")
  echo "+ ${shown[*]}"
  if [[ $DRY_RUN != 1 ]]; then
    "${real[@]}"
  fi
}

admin_password=$(read_secret kafka_admin_password)
write_client_properties "$admin_config" "$ADMIN_USER" "$admin_password" "$SECRETS_DIR/ca.crt"
unset admin_password
common=(--bootstrap-server "$BOOTSTRAP" --command-config "$admin_config")

# 1. SCRAM users
shopt -s nullglob
users=()
for file in "$SECRETS_DIR"/scram_*; do
  user=${file##*/scram_}
  [[ $user =~ ^[A-Za-z0-9._-]+$ ]] || die "bad user name in secret file name: $file"
  [[ $user == "$ADMIN_USER" ]] && die "scram_$ADMIN_USER: the admin password is the kafka_admin_password secret"
  users+=("$user")
done
shopt -u nullglob
((${#users[@]} > 0)) || die "no scram_<user> secrets mounted: nothing would be able to connect"

for user in "${users[@]}"; do
  password=$(read_secret "scram_$user")
  run "$KAFKA_BIN/kafka-configs.sh" "${common[@]}" --alter --entity-type users --entity-name "$user" \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=$MASK]" \
    -- "$KAFKA_BIN/kafka-configs.sh" "${common[@]}" --alter --entity-type users --entity-name "$user" \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]"
done
unset password

# 2. Topics
topics=()
IFS=',' read -r -a datasets <<<"$DATASETS"
for dataset in "${datasets[@]}"; do
  dataset=${dataset//[[:space:]]/}
  [[ -z $dataset ]] && continue
  [[ $dataset =~ ^[a-z][a-z0-9_]*$ ]] || die "bad dataset id '$dataset' in INIT_DATASETS"
  for stage in raw shared restricted; do
    topics+=("$stage.$dataset" "keys.$stage.$dataset")
  done
done
((${#topics[@]} > 0)) || die "INIT_DATASETS names no dataset"
topics+=(deadletter.sanitiser)

for topic in "${topics[@]}"; do
  args=("$KAFKA_BIN/kafka-topics.sh" "${common[@]}" --create --if-not-exists --topic "$topic"
        --partitions "$PARTITIONS" --replication-factor "$REPLICATION")
  # A key grant must outlive every record sealed under it: key topics are compacted (one grant per
  # key id, so compaction keeps them all) and never expire.
  # Data topics and the dead letters keep 30 days (exchange/transport/kafka.py says the same).
  if [[ $topic == keys.* ]]; then
    args+=(--config cleanup.policy=compact --config retention.ms=-1)
  else
    args+=(--config retention.ms=2592000000)
  fi
  run "${args[@]}" -- "${args[@]}"
done

# 3. The ACL administrator's cluster rights (CreateAcls/DeleteAcls need ALTER on the
#    cluster, DescribeAcls needs DESCRIBE).
args=("$KAFKA_BIN/kafka-acls.sh" "${common[@]}" --add --allow-principal "User:$ACL_ADMIN"
      --operation Alter --operation Describe --cluster)
run "${args[@]}" -- "${args[@]}"

echo "kafka-init: ${#users[@]} SCRAM user(s), ${#topics[@]} topic(s), ACL admin User:$ACL_ADMIN"
