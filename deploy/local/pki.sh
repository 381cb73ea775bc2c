#!/usr/bin/env bash
# Development PKI for the local platform, made with OpenSSL.
#
#   deploy/local/pki.sh DIR [KIND/NAME ...]
#
# Creates DIR/ca.crt and DIR/ca.key (a development CA, once), then for each KIND/NAME
# (service/consent, service/support-desk, auditor/dpo, ...) a key and a certificate
# DIR/KIND-NAME.{key,crt} that carry the URI SAN spiffe://cdp.local/KIND/NAME, plus
# DNS:localhost and IP:127.0.0.1 so that the same certificate serves and calls on loopback.
# Existing files are kept. ECDSA P-256 throughout (browsers accept it for the portal).
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit $([[ $# -lt 1 ]] && echo 2 || echo 0)
fi
dir=$1
shift
mkdir -p "$dir"
umask 077

if [[ ! -s $dir/ca.crt || ! -s $dir/ca.key ]]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
    -subj "/O=CDP local development/CN=CDP development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

for identity in "$@"; do
  if [[ ! $identity =~ ^[a-z]+/[a-z0-9-]+$ ]]; then
    echo "pki.sh: identity '$identity' must look like kind/name (lower case)" >&2
    exit 2
  fi
  base="$dir/${identity//\//-}"
  [[ -s $base.crt && -s $base.key ]] && continue
  ext=$(mktemp)
  cat > "$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:spiffe://cdp.local/$identity,DNS:localhost,IP:127.0.0.1
EXT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$base.key" -out "$base.csr" -subj "/O=CDP local development/CN=${identity//\//:}" 2>/dev/null
  openssl x509 -req -in "$base.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$base.crt" -days 825 -sha256 -extfile "$ext" 2>/dev/null
  rm -f "$base.csr" "$ext"
done
chmod 644 "$dir"/*.crt
