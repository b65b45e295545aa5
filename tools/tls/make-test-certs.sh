#!/bin/sh
# Makes a throwaway PKI for TLS tests and the README's security section:
#   ca.pem/ca.key            the CA that signs the broker and client certs
#   server.pem/server.key    the broker (CN=localhost, SAN localhost, 127.0.0.1;
#                            also a client certificate for broker-to-broker TLS)
#   client.pem/client.key    a client (CN=alice,OU=Clients,O=Example)
#   expired.pem/expired.key  a client whose certificate expired in 2020
#   other-ca.pem, stranger.pem/stranger.key  a client signed by another CA
#   wrong.key                a key that matches no certificate here
# usage: make-test-certs.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }
key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

key ca.key
q openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/O=Example/CN=Test CA" -out ca.pem
key other-ca.key
q openssl req -x509 -new -key other-ca.key -sha256 -days 3650 -subj "/O=Other/CN=Other CA" -out other-ca.pem

# sign NAME SUBJECT CA EXT
sign() {
  key "$1.key"
  q openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$4" > "$1.ext"
  q openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
    -sha256 -days 825 -extfile "$1.ext" -out "$1.pem"
}
sign server "/O=Example/CN=localhost" ca \
  "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
sign client "/O=Example/OU=Clients/CN=alice" ca "extendedKeyUsage=clientAuth"
sign stranger "/O=Other/CN=mallory" other-ca "extendedKeyUsage=clientAuth"

# An expired client certificate (openssl ca takes explicit dates).
key expired.key
q openssl req -new -key expired.key -subj "/O=Example/CN=old" -out expired.csr
mkdir -p ca-db
: > ca-db/index.txt
echo 01 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
CNF
q openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key \
  -startdate 20200101000000Z -enddate 20200102000000Z -in expired.csr -out expired.pem
key wrong.key
rm -f ./*.csr ./*.ext
