#!/usr/bin/env bash
# verify-broker.sh: check, once, against the real Apache Kafka of a deployment (docker/compose.yaml
# or any broker set up the same way), what the exchange's tests can only check statically:
# TLS is required, a client needs valid SCRAM-SHA-512 credentials, and the ACLs that
# `exchange acl apply` set keep each role to its own topics. Uses Apache Kafka's own command-line
# tools (kafka-topics.sh, kafka-console-consumer.sh, kafka-console-producer.sh, kafka-acls.sh).
#
# Prints PASS, FAIL or SKIP per check; exits 0 when nothing failed, 1 when a check failed (or could
# not be decided), 2 on a usage error. Never prints a password: the role files are read only by the
# Kafka tools, through private copies in a temporary folder removed on exit.
#
# `verify-broker.sh --help` lists the options and every check.
set -euo pipefail
umask 077

PROG=verify-broker

# Every check: "id|what it shows". --help prints this list; tests/test_docker_static.py checks that
# the list, the help and the checks the script runs agree.
CHECKS=(
  "connect-sanitiser|the sanitiser's user logs in over TLS with SCRAM-SHA-512, the broker certificate checked against the CA"
  "connect-supplier|the supplier's user logs in the same way"
  "connect-subscriber|the subscriber's user logs in the same way"
  "no-credentials-refused|a TLS client with no SASL credentials is refused"
  "wrong-password-refused|a SCRAM-SHA-512 login with a wrong password is refused"
  "plaintext-refused|a plaintext (non-TLS) client is refused: TLS is required"
  "subscriber-reads-granted|the subscriber can read shared.<dataset> and keys.shared.<dataset>, which it is granted (control: its ACLs are in place)"
  "subscriber-foreign-denied|the subscriber cannot read <foreign-topic> nor keys.<foreign-topic>, which it is not granted (--foreign-topic)"
  "subscriber-raw-denied|the subscriber cannot read raw.<dataset> nor keys.raw.<dataset> (raw topics are the sanitiser's alone)"
  "subscriber-shared-write-denied|the subscriber cannot write to shared.<dataset> nor keys.shared.<dataset> (only the sanitiser publishes there)"
  "supplier-raw-read-denied|the supplier cannot read raw.<dataset> nor keys.raw.<dataset>, though it writes to them"
  "supplier-shared-write-denied|the supplier cannot write to shared.<dataset> nor keys.shared.<dataset>"
  "subscriber-acl-change-denied|the subscriber cannot create an ACL (only the ACL administrator can)"
  "sanitiser-reads-raw|the sanitiser can read raw.<dataset> and keys.raw.<dataset>"
  "sanitiser-writes-shared|the sanitiser can create and write to <probe-topic>, a shared.* topic (--probe-topic)"
  "no-wildcard-acl|no ACL allows User:*, everyone (needs --acl-admin; SKIP without it)"
)

usage() {
  cat <<'EOF'
Usage: docker/verify-broker.sh --bootstrap HOST:PORT --ca FILE
                               --sanitiser FILE --supplier FILE --subscriber FILE [options]

Run once after the first deployment (and after changing listeners, certificates or ACLs), from
a machine that reaches the broker as the agencies do, with Apache Kafka's command-line tools
installed (the apache/kafka image has them in /opt/kafka/bin). It checks the live broker; the
exchange's own tests can only check docker/ statically.

Options (each may also come from the environment variable in brackets):
  --bootstrap HOST:PORT   the client listener, e.g. kafka.csp.example.gov.uk:9093; the name must be
                          in the broker certificate and the advertised listener must resolve from here
                          [VERIFY_BOOTSTRAP, else EXCHANGE_BOOTSTRAP]
  --ca FILE               the partnership CA certificate (PEM), docker/secrets/ca.crt
                          [VERIFY_CA_FILE, else EXCHANGE_SSL_CAFILE]
  --sanitiser FILE        client properties of the sanitiser's broker user   [VERIFY_SANITISER_PROPERTIES]
  --supplier FILE         ... of a supplying agency, active, supplying --dataset
                                                                             [VERIFY_SUPPLIER_PROPERTIES]
  --subscriber FILE       ... of a subscriber granted --dataset            [VERIFY_SUBSCRIBER_PROPERTIES]
  --acl-admin FILE        ... of the ACL administrator (acl-admin); optional: enables no-wildcard-acl
                                                                             [VERIFY_ACL_ADMIN_PROPERTIES]
  --dataset ID            the dataset the supplier supplies and the subscriber is granted
                          (default police_crime_offence, compose's EXCHANGE_DATASETS)  [VERIFY_DATASET]
  --foreign-topic TOPIC   a shared.<dataset> topic granted to another subscriber but not to this one
                          (default restricted.<dataset>, which nobody may read while <dataset> is
                          depersonalised)                                         [VERIFY_FOREIGN_TOPIC]
  --probe-topic TOPIC     where the sanitiser's test message goes: a shared.* name no dataset can
                          have (default shared.verify-broker; created if missing)  [VERIFY_PROBE_TOPIC]
  --kafka-bin DIR         folder of kafka-topics.sh and the other tools (default: from PATH, else
                          /opt/kafka/bin)                                                  [KAFKA_BIN]
  --timeout SECONDS       how long one client may wait for the broker (default 15)  [VERIFY_TIMEOUT]
  -h, --help              this text

A role's properties file needs one line, the SCRAM login of that role's broker user:
  sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="NAME" password="...";
Everything else (security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, the CA as a PEM
truststore, hostname verification) is set by this script, whatever the file says. Keep the files
mode 0600 and delete them afterwards: they hold passwords. The script never prints them.

What it writes: one message to --probe-topic, as the sanitiser. Nothing else, unless a write
check FAILS because the broker let the write through: then one probe line sits on shared.<dataset>
or keys.shared.<dataset>, and feeds refuse it as not an envelope. Reads take at most one message
from the earliest offset of partition 0, with no consumer group and no commit, so no feed's or
the sanitiser's position moves; what they read is never printed. The ACL check adds a DENY binding
for User:verify-broker-nobody on the topic verify-broker-probe only if the broker wrongly lets the
subscriber create ACLs, and then removes it.

Exit status: 0 every check passed (or was skipped); 1 a check failed or could not be decided;
2 usage error.

Checks:
EOF
  local entry
  for entry in "${CHECKS[@]}"; do
    printf '  %-31s %s\n' "${entry%%|*}" "${entry#*|}"
  done
}

die_usage() {
  echo "$PROG: $* (try --help)" >&2
  exit 2
}

# ------------------------------------------------------------------------------ options

BOOTSTRAP=${VERIFY_BOOTSTRAP:-${EXCHANGE_BOOTSTRAP:-}}
CA_FILE=${VERIFY_CA_FILE:-${EXCHANGE_SSL_CAFILE:-}}
SANITISER_PROPS=${VERIFY_SANITISER_PROPERTIES:-}
SUPPLIER_PROPS=${VERIFY_SUPPLIER_PROPERTIES:-}
SUBSCRIBER_PROPS=${VERIFY_SUBSCRIBER_PROPERTIES:-}
ACL_ADMIN_PROPS=${VERIFY_ACL_ADMIN_PROPERTIES:-}
DATASET=${VERIFY_DATASET:-police_crime_offence}
FOREIGN_TOPIC=${VERIFY_FOREIGN_TOPIC:-}
PROBE_TOPIC=${VERIFY_PROBE_TOPIC:-shared.verify-broker}
TOOLS=${KAFKA_BIN:-}
TIMEOUT=${VERIFY_TIMEOUT:-15}

while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --bootstrap | --ca | --sanitiser | --supplier | --subscriber | --acl-admin | --dataset | \
    --foreign-topic | --probe-topic | --kafka-bin | --timeout)
      (($# >= 2)) || die_usage "$1 needs a value"
      case $1 in
        --bootstrap) BOOTSTRAP=$2 ;;
        --ca) CA_FILE=$2 ;;
        --sanitiser) SANITISER_PROPS=$2 ;;
        --supplier) SUPPLIER_PROPS=$2 ;;
        --subscriber) SUBSCRIBER_PROPS=$2 ;;
        --acl-admin) ACL_ADMIN_PROPS=$2 ;;
        --dataset) DATASET=$2 ;;
        --foreign-topic) FOREIGN_TOPIC=$2 ;;
        --probe-topic) PROBE_TOPIC=$2 ;;
        --kafka-bin) TOOLS=$2 ;;
        --timeout) TIMEOUT=$2 ;;
      esac
      shift 2 ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done

[[ -n $BOOTSTRAP ]] || die_usage "no bootstrap address: give --bootstrap HOST:PORT"
address='[A-Za-z0-9._-]+:[0-9]+'
[[ $BOOTSTRAP =~ ^$address(,$address)*$ ]] || die_usage "--bootstrap must be HOST:PORT (several: comma-separated)"
[[ -n $CA_FILE ]] || die_usage "no CA file: give --ca FILE (docker/secrets/ca.crt)"
[[ -r $CA_FILE && -f $CA_FILE ]] || die_usage "cannot read the CA file $CA_FILE"
CA_FILE=$(cd "$(dirname "$CA_FILE")" && pwd)/$(basename "$CA_FILE")  # the tools may resolve it elsewhere
[[ $DATASET =~ ^[a-z][a-z0-9_]{0,62}$ ]] || die_usage "--dataset '$DATASET' is not a dataset id"
FOREIGN_TOPIC=${FOREIGN_TOPIC:-restricted.$DATASET}
for topic in "$FOREIGN_TOPIC" "$PROBE_TOPIC"; do
  [[ $topic =~ ^[A-Za-z0-9._-]{1,249}$ ]] || die_usage "'$topic' is not a Kafka topic name"
done
[[ $PROBE_TOPIC == shared.* ]] || die_usage "--probe-topic must start with shared. (it tests the sanitiser's right to shared.*)"
[[ $FOREIGN_TOPIC != "shared.$DATASET" ]] || die_usage "--foreign-topic must be a topic the subscriber is NOT granted"
[[ $TIMEOUT =~ ^[1-9][0-9]{0,3}$ ]] || die_usage "--timeout must be a whole number of seconds"

if [[ -z $TOOLS ]]; then
  if command -v kafka-topics.sh >/dev/null 2>&1; then
    TOOLS=$(dirname "$(command -v kafka-topics.sh)")
  else
    TOOLS=/opt/kafka/bin
  fi
fi
for name in kafka-topics.sh kafka-console-consumer.sh kafka-console-producer.sh kafka-acls.sh; do
  [[ -x $TOOLS/$name ]] || die_usage "$TOOLS/$name not found: give --kafka-bin (Apache Kafka's bin folder)"
done

# role_user FILE: the user name of the SCRAM login in a role file (not a secret); empty if none.
role_user() {
  sed -n 's/^[[:space:]]*sasl\.jaas\.config[[:space:]]*[=:].*username="\([^"]*\)".*/\1/p' "$1" | tail -n 1
}

check_role_file() {
  local option=$1 file=$2
  [[ -n $file ]] || die_usage "no $option file: give $option FILE"
  [[ -r $file ]] || die_usage "cannot read the $option file $file"
  grep -Eq '^[[:space:]]*sasl\.jaas\.config[[:space:]]*[=:].*ScramLoginModule' "$file" \
    || die_usage "$option file $file has no sasl.jaas.config line with ScramLoginModule"
  [[ -n $(role_user "$file") ]] || die_usage "$option file $file: the sasl.jaas.config line names no username=\"...\""
}
check_role_file --sanitiser "$SANITISER_PROPS"
check_role_file --supplier "$SUPPLIER_PROPS"
check_role_file --subscriber "$SUBSCRIBER_PROPS"
[[ -z $ACL_ADMIN_PROPS ]] || check_role_file --acl-admin "$ACL_ADMIN_PROPS"

SANITISER_USER=$(role_user "$SANITISER_PROPS")
SUPPLIER_USER=$(role_user "$SUPPLIER_PROPS")
SUBSCRIBER_USER=$(role_user "$SUBSCRIBER_PROPS")
for user in "$SUPPLIER_USER" "$SUBSCRIBER_USER"; do
  [[ $user != "$SANITISER_USER" ]] || die_usage "the sanitiser and another role both log in as '$user': give each role its own user"
done

RAW_TOPIC=raw.$DATASET
SHARED_TOPIC=shared.$DATASET

# ------------------------------------------------------------------------------ plumbing

work=$(mktemp -d "${TMPDIR:-/tmp}/verify-broker.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT  # so that the EXIT trap removes the private copies on ^C or a kill too
trap 'exit 143' TERM HUP
chmod 700 "$work"

# A small heap for these short-lived tools, and their log lines on stderr (the tools' default).
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms32m -Xmx256m}

# client_settings PROTOCOL: the connection settings this script decides, whatever a role file says.
client_settings() {
  local protocol=$1 ms=$((TIMEOUT * 1000))
  echo "security.protocol=$protocol"
  if [[ $protocol == *SSL ]]; then
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$CA_FILE"
    echo "ssl.endpoint.identification.algorithm=https"
  fi
  if [[ $protocol == SASL_* ]]; then
    echo "sasl.mechanism=SCRAM-SHA-512"
  fi
  echo "request.timeout.ms=$ms"
  echo "default.api.timeout.ms=$ms"
  echo "max.block.ms=$ms"
  echo "delivery.timeout.ms=$((ms * 2))"
  echo "linger.ms=0"
  # As the exchange's own producers (EXCHANGE_KAFKA_IDEMPOTENCE is off by default): a write is
  # then decided by the topic's WRITE ACL alone.
  echo "enable.idempotence=false"
}

# role_config NAME FILE: a private copy of a role file with this script's connection settings
# (SASL_SSL, SCRAM-SHA-512, the CA) in place of any the file has. Prints the copy's path.
role_config() {
  local out="$work/$1.properties"
  {
    grep -Ev '^[[:space:]]*(security\.protocol|sasl\.mechanism|ssl\.truststore\.[A-Za-z.]+|ssl\.endpoint\.identification\.algorithm|request\.timeout\.ms|default\.api\.timeout\.ms|max\.block\.ms|delivery\.timeout\.ms|linger\.ms|enable\.idempotence)[[:space:]]*[=:]' "$2" || true
    client_settings SASL_SSL
  } >"$out"
  printf '%s' "$out"
}

SANITISER_CONFIG=$(role_config sanitiser "$SANITISER_PROPS")
SUPPLIER_CONFIG=$(role_config supplier "$SUPPLIER_PROPS")
SUBSCRIBER_CONFIG=$(role_config subscriber "$SUBSCRIBER_PROPS")
ACL_ADMIN_CONFIG=""
[[ -z $ACL_ADMIN_PROPS ]] || ACL_ADMIN_CONFIG=$(role_config acl-admin "$ACL_ADMIN_PROPS")

# A client with no credentials (TLS only), one with a wrong password, one without TLS.
ANONYMOUS_CONFIG="$work/anonymous.properties"
client_settings SSL >"$ANONYMOUS_CONFIG"
WRONG_PASSWORD_CONFIG="$work/wrong-password.properties"
{
  wrong=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SUBSCRIBER_USER\" password=\"$wrong\";"
  unset wrong
  client_settings SASL_SSL
} >"$WRONG_PASSWORD_CONFIG"
PLAINTEXT_CONFIG="$work/plaintext.properties"
client_settings PLAINTEXT >"$PLAINTEXT_CONFIG"

# tool LOG NAME ARGS...: run one Kafka tool with its output (both streams) in LOG, which is never
# printed whole; stdin is the caller's. Returns the tool's exit status.
tool() {
  local log=$1 name=$2
  shift 2
  local -a limit=()
  if command -v timeout >/dev/null 2>&1; then
    limit=(timeout -k 5 $((TIMEOUT * 3 + 20)))
  fi
  ${limit[@]+"${limit[@]}"} "$TOOLS/$name" "$@" >"$log" 2>&1
}

# outcome LOG STATUS: what a tool run shows, by the exception names and messages Kafka prints:
# auth-failed, tls-failed, denied, missing, unreachable, allowed, or error.
outcome() {
  local log=$1 status=$2
  if grep -Eq 'SaslAuthenticationException|[Aa]uthentication failed|invalid credentials' "$log"; then
    echo auth-failed
  elif grep -Eq 'SslAuthenticationException|SSLHandshakeException|SSL handshake failed|PKIX path' "$log"; then
    echo tls-failed
  elif grep -Eq 'TopicAuthorizationException|GroupAuthorizationException|ClusterAuthorizationException|Not authorized to access|[Aa]uthorization failed' "$log"; then
    echo denied
  elif grep -Eq 'UNKNOWN_TOPIC_OR_PARTITION|UnknownTopicOrPartitionException|not present in metadata|does not exist' "$log"; then
    echo missing
  elif grep -Eq 'could not be established|may not be available|disconnected|Timed out waiting for a node' "$log"; then
    echo unreachable
  elif ((status == 0)); then
    echo allowed
  else
    echo error
  fi
}

# explain OUTCOME STATUS: a short reason, for a FAIL line. Never quotes the tool's output.
explain() {
  case $1 in
    auth-failed) echo "the broker refused the login (check the user and password in the role's file)" ;;
    tls-failed) echo "the TLS handshake failed (is --ca the partnership CA, and the bootstrap name in the broker certificate?)" ;;
    denied) echo "refused by an ACL" ;;
    missing) echo "the topic does not exist (kafka-init creates raw.<dataset> and shared.<dataset>)" ;;
    unreachable) echo "no answer from the broker in time (address, firewall, advertised listener name?)" ;;
    allowed) echo "the broker allowed it" ;;
    *) echo "the Kafka tool failed (exit status $2)" ;;
  esac
}

passed=0 failed=0 skipped=0
result() {  # result PASS|FAIL|SKIP ID [REASON]
  local verdict=$1 id=$2 reason=${3:-} entry text=""
  for entry in "${CHECKS[@]}"; do
    if [[ ${entry%%|*} == "$id" ]]; then
      text=${entry#*|}
    fi
  done
  [[ -n $text ]] || { echo "$PROG: internal error: unknown check $id" >&2; exit 2; }
  text=${text//<dataset>/$DATASET}
  text=${text//<foreign-topic>/$FOREIGN_TOPIC}
  text=${text//<probe-topic>/$PROBE_TOPIC}
  printf '%-4s  %-31s %s\n' "$verdict" "$id" "$text"
  if [[ -n $reason ]]; then
    printf '      %s\n' "$reason"
  fi
  case $verdict in
    PASS) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
    *) skipped=$((skipped + 1)) ;;
  esac
}

# as_expected ALLOW|DENY OUTCOME: whether an outcome is the one a check wants.
as_expected() {
  [[ $1 == ALLOW && $2 == allowed ]] || [[ $1 == DENY && $2 == denied ]]
}

# why_not ALLOW|DENY OUTCOME STATUS: the reason for a FAIL line.
why_not() {
  if [[ $1 == DENY && $2 == allowed ]]; then
    echo "the broker ALLOWED it"
  else
    explain "$2" "$3"
  fi
}

# read_topic LOG CONFIG TOPIC: read at most one message from partition 0, from the earliest offset,
# without committing anything. The message itself stays in LOG (private, removed on exit).
read_topic() {
  local status=0
  tool "$1" kafka-console-consumer.sh --bootstrap-server "$BOOTSTRAP" --consumer.config "$2" \
    --topic "$3" --partition 0 --offset earliest --max-messages 1 --timeout-ms $((TIMEOUT * 1000)) \
    </dev/null || status=$?
  echo "$status"
}

# write_topic LOG CONFIG TOPIC: publish one probe line, waiting for the broker's answer.
write_topic() {
  local status=0
  tool "$1" kafka-console-producer.sh --bootstrap-server "$BOOTSTRAP" --producer.config "$2" \
    --topic "$3" --sync <<<"verify-broker probe $(date -u +%Y-%m-%dT%H:%M:%SZ): not an envelope, ignore" \
    || status=$?
  echo "$status"
}

# list_topics LOG CONFIG: log in and list the topics this user may see.
list_topics() {
  local status=0
  tool "$1" kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$2" --list </dev/null || status=$?
  echo "$status"
}

# access read_topic|write_topic ALLOW|DENY ID CONFIG TOPIC...: PASS when every topic can (ALLOW) or
# cannot (DENY) be read (read_topic) or written one probe line (write_topic).
access() {
  local action=$1 want=$2 id=$3 config=$4 topic status got n=0
  shift 4
  for topic in "$@"; do
    n=$((n + 1))
    status=$("$action" "$work/$id-$n.log" "$config" "$topic")
    got=$(outcome "$work/$id-$n.log" "$status")
    if ! as_expected "$want" "$got"; then
      result FAIL "$id" "$topic: $(why_not "$want" "$got" "$status")"
      return 0
    fi
  done
  result PASS "$id"
}

reads() { access read_topic "$@"; }
writes() { access write_topic "$@"; }

# ------------------------------------------------------------------------------ the checks

echo "$PROG: broker $BOOTSTRAP, dataset $DATASET; sanitiser User:$SANITISER_USER, supplier User:$SUPPLIER_USER, subscriber User:$SUBSCRIBER_USER"

# Logins. A refusal further down proves something only if TLS and the address work, so the
# refusal checks below need one of these to pass.
connected=0
for role in sanitiser supplier subscriber; do
  case $role in
    sanitiser) config=$SANITISER_CONFIG ;;
    supplier) config=$SUPPLIER_CONFIG ;;
    subscriber) config=$SUBSCRIBER_CONFIG ;;
  esac
  status=$(list_topics "$work/connect-$role.log" "$config")
  got=$(outcome "$work/connect-$role.log" "$status")
  if [[ $got == allowed ]]; then
    result PASS "connect-$role"
    connected=1
  else
    result FAIL "connect-$role" "$(explain "$got" "$status")"
  fi
done

# refused ID LOG STATUS: PASS when a client that must not get in did not, and TLS logins work.
refused() {
  local id=$1 got
  got=$(outcome "$2" "$3")
  if [[ $got == allowed ]]; then
    result FAIL "$id" "the broker ACCEPTED the client"
  elif ((connected == 0)); then
    result FAIL "$id" "cannot tell: no role could log in over TLS either, so a refusal proves nothing"
  else
    result PASS "$id"
  fi
}

status=$(list_topics "$work/anonymous.log" "$ANONYMOUS_CONFIG")
refused no-credentials-refused "$work/anonymous.log" "$status"

status=$(list_topics "$work/wrong-password.log" "$WRONG_PASSWORD_CONFIG")
got=$(outcome "$work/wrong-password.log" "$status")
if [[ $got == auth-failed ]]; then
  result PASS wrong-password-refused
elif [[ $got == allowed ]]; then
  result FAIL wrong-password-refused "the broker ACCEPTED a wrong password"
else
  result FAIL wrong-password-refused "no authentication failure seen: $(explain "$got" "$status")"
fi

status=$(list_topics "$work/plaintext.log" "$PLAINTEXT_CONFIG")
refused plaintext-refused "$work/plaintext.log" "$status"

# The subscriber.
reads ALLOW subscriber-reads-granted "$SUBSCRIBER_CONFIG" "$SHARED_TOPIC" "keys.$SHARED_TOPIC"
reads DENY subscriber-foreign-denied "$SUBSCRIBER_CONFIG" "$FOREIGN_TOPIC" "keys.$FOREIGN_TOPIC"
reads DENY subscriber-raw-denied "$SUBSCRIBER_CONFIG" "$RAW_TOPIC" "keys.$RAW_TOPIC"
writes DENY subscriber-shared-write-denied "$SUBSCRIBER_CONFIG" "$SHARED_TOPIC" "keys.$SHARED_TOPIC"

# The supplier.
reads DENY supplier-raw-read-denied "$SUPPLIER_CONFIG" "$RAW_TOPIC" "keys.$RAW_TOPIC"
writes DENY supplier-shared-write-denied "$SUPPLIER_CONFIG" "$SHARED_TOPIC" "keys.$SHARED_TOPIC"

# ACL changes: a harmless DENY binding, removed again if the broker wrongly accepts it.
acl_args=(--deny-principal User:verify-broker-nobody --operation Read --topic verify-broker-probe)
status=0
tool "$work/subscriber-acl.log" kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$SUBSCRIBER_CONFIG" \
  --add "${acl_args[@]}" </dev/null || status=$?
got=$(outcome "$work/subscriber-acl.log" "$status")
if as_expected DENY "$got"; then
  result PASS subscriber-acl-change-denied
else
  result FAIL subscriber-acl-change-denied "$(why_not DENY "$got" "$status")"
  if [[ $got == allowed ]]; then
    tool "$work/subscriber-acl-undo.log" kafka-acls.sh --bootstrap-server "$BOOTSTRAP" \
      --command-config "$SUBSCRIBER_CONFIG" --remove --force "${acl_args[@]}" </dev/null || true
  fi
fi

# The sanitiser.
reads ALLOW sanitiser-reads-raw "$SANITISER_CONFIG" "$RAW_TOPIC" "keys.$RAW_TOPIC"
status=0
tool "$work/sanitiser-create.log" kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$SANITISER_CONFIG" \
  --create --if-not-exists --topic "$PROBE_TOPIC" --partitions 1 </dev/null || status=$?
got=$(outcome "$work/sanitiser-create.log" "$status")
if [[ $got != allowed ]]; then
  result FAIL sanitiser-writes-shared "could not create $PROBE_TOPIC: $(explain "$got" "$status")"
else
  writes ALLOW sanitiser-writes-shared "$SANITISER_CONFIG" "$PROBE_TOPIC"
fi

# The ACLs as the broker holds them.
if [[ -z $ACL_ADMIN_CONFIG ]]; then
  result SKIP no-wildcard-acl "give --acl-admin to list the broker's ACLs"
else
  status=0
  tool "$work/acls.log" kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$ACL_ADMIN_CONFIG" \
    --list </dev/null || status=$?
  got=$(outcome "$work/acls.log" "$status")
  if [[ $got != allowed ]]; then
    result FAIL no-wildcard-acl "could not list the ACLs: $(explain "$got" "$status")"
  elif grep -Eq 'principal=User:\*,.*permissionType=ALLOW' "$work/acls.log"; then
    result FAIL no-wildcard-acl "$(grep -Ec 'principal=User:\*,.*permissionType=ALLOW' "$work/acls.log") binding(s) ALLOW User:* (kafka-acls.sh --list shows them)"
  else
    result PASS no-wildcard-acl
  fi
fi

echo "$PROG: $passed passed, $failed failed, $skipped skipped"
if ((failed > 0)); then
  exit 1
fi
