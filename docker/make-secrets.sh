#!/usr/bin/env bash
# Create the secrets docker/compose.yaml mounts: a partnership CA, the broker's TLS keystore,
# a truststore for Java clients, and random passwords/passphrases. docker/secrets/README.md
# explains each file and how to do the same by hand.
#
#   docker/make-secrets.sh [--dir DIR] [--host NAME]... [--user NAME]... [--days N]
#                          [--group GID] [--force-broker-cert]
#
#   --dir DIR            where to write (default: docker/secrets beside this script)
#   --host NAME          a DNS name the broker is reached by (repeatable; default: kafka).
#                        localhost and 127.0.0.1 are always added: the broker reaches its own
#                        controller and inter-broker listeners there.
#   --user NAME          a SCRAM user to make a password for (repeatable; default:
#                        sanitiser northshire-council acl-admin)
#   --days N             certificate validity (default 825 for the broker, 3650 for the CA)
#   --group GID          group that may read the secrets (default 10001, EXCHANGE_SECRETS_GID
#                        in compose.yaml). Applied when run as root; otherwise printed.
#   --force-broker-cert  issue a new broker certificate and keystore even if one exists
#
# Existing files are kept (rerunning adds what is missing), so passwords already loaded into
# Kafka are never silently replaced. The CA private key (ca.key) is only needed to issue
# certificates: move it offline once the broker certificate is made.
#
# Needs openssl; keytool (any JRE) for the optional Java truststore. Exchange key pairs
# (sanitiser.key, council.key) are not made here: create them with the exchange's `keys`
# command using the passphrase files this script writes (see docker/secrets/README.md).
set -euo pipefail
umask 077

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir="$here/secrets"
hosts=()
users=()
days=825
ca_days=3650
group=10001
force_cert=0

while (($#)); do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --host) hosts+=("$2"); shift 2 ;;
    --user) users+=("$2"); shift 2 ;;
    --days) days=$2; shift 2 ;;
    --group) group=$2; shift 2 ;;
    --force-broker-cert) force_cert=1; shift ;;
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "make-secrets: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
((${#hosts[@]})) || hosts=(kafka)
((${#users[@]})) || users=(sanitiser northshire-council acl-admin)
[[ $days =~ ^[1-9][0-9]*$ ]] || { echo "make-secrets: --days must be a positive integer" >&2; exit 2; }
[[ $group =~ ^[0-9]+$ ]] || { echo "make-secrets: --group must be a numeric gid" >&2; exit 2; }
for name in "${hosts[@]}"; do
  [[ $name =~ ^[A-Za-z0-9.-]+$ ]] || { echo "make-secrets: bad host name '$name'" >&2; exit 2; }
done
for name in "${users[@]}"; do
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || { echo "make-secrets: bad user name '$name'" >&2; exit 2; }
  [[ $name != admin ]] || { echo "make-secrets: 'admin' is made as kafka_admin_password" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "make-secrets: openssl is required" >&2; exit 1; }

mkdir -p "$dir"
cd "$dir"
made=()

# new_password FILE: 32 random bytes as hex (64 characters: no quoting needed anywhere).
new_password() {
  if [[ ! -s $1 ]]; then
    openssl rand -hex 32 >"$1"
    made+=("$1")
  fi
}

# 1. The partnership CA (signs the broker certificate; clients trust ca.crt).
if [[ ! -s ca.crt ]]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.crt -days "$ca_days" -sha256 \
    -subj "/O=Community Safety Partnership/CN=CSP exchange CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  made+=(ca.key ca.crt)
fi

# 2. The broker's key and certificate, in a password-protected PKCS#12 keystore.
new_password kafka_keystore_password
if [[ ! -s kafka.keystore.p12 || $force_cert == 1 ]]; then
  [[ -s ca.key ]] || { echo "make-secrets: ca.key is not here: bring the CA key back to issue a broker certificate" >&2; exit 1; }
  san=""
  for name in "${hosts[@]}"; do san+="DNS:$name,"; done
  san+="DNS:localhost,IP:127.0.0.1"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/kafka.key" -out "$work/kafka.csr" \
    -subj "/O=Community Safety Partnership/CN=${hosts[0]}" 2>/dev/null
  cat >"$work/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
EOF
  openssl x509 -req -in "$work/kafka.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out kafka.crt -days "$days" -sha256 -extfile "$work/ext.cnf" 2>/dev/null
  rm -f ca.srl
  openssl pkcs12 -export -name kafka -inkey "$work/kafka.key" -in kafka.crt -certfile ca.crt \
    -out kafka.keystore.p12 -passout file:kafka_keystore_password
  made+=(kafka.crt kafka.keystore.p12)
fi

# 3. A truststore for Java clients outside compose (compose itself uses ca.crt as a PEM
#    truststore, so this one is optional).
if command -v keytool >/dev/null; then
  new_password client_truststore_password
  if [[ ! -s client.truststore.p12 ]]; then
    keytool -importcert -noprompt -alias csp-exchange-ca -file ca.crt \
      -keystore client.truststore.p12 -storetype PKCS12 \
      -storepass:file client_truststore_password >/dev/null 2>&1
    made+=(client.truststore.p12)
  fi
else
  echo "make-secrets: keytool not found: skipping client.truststore.p12 (optional)" >&2
fi

# 4. SCRAM passwords: the super user and one per service principal.
new_password kafka_admin_password
for user in "${users[@]}"; do
  new_password "scram_$user"
done

# 5. Passphrases for the exchange's private key files.
new_password sanitiser_key_passphrase
new_password council_key_passphrase

# Everything readable by its owner and the secrets group only (ca.crt is public).
for file in *; do
  [[ $file == README.md || $file == .gitignore ]] && continue
  chmod 0640 "$file"
done
chmod 0644 ca.crt
[[ -e ca.key ]] && chmod 0600 ca.key
if [[ $(id -u) == 0 ]]; then
  for file in *; do
    [[ $file == README.md || $file == .gitignore || $file == ca.key ]] && continue
    chgrp "$group" "$file"
  done
fi

if ((${#made[@]})); then
  echo "make-secrets: wrote ${made[*]} in $dir"
else
  echo "make-secrets: nothing to do in $dir"
fi
if [[ $(id -u) != 0 ]]; then
  echo "make-secrets: the containers read these files as group $group; run:"
  echo "    sudo chgrp $group $dir/*"
fi
for key in sanitiser.key council.key; do
  [[ -e $key ]] || echo "make-secrets: still to create: $dir/$key (exchange keys; see README.md)"
done
