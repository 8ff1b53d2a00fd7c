#!/bin/bash
# docker-compose's kafka-tls job (as root, in the broker's image, which has keytool): once per pair of
# volumes, a CA and the broker's key and certificate for `kafka` and `localhost`, signed by it. The CA's
# key is deleted once it signed; the broker's PKCS12 store and its password go to /tls (the broker's
# volume only), the CA's certificate to /ca (mounted read-only into every client).
set -euo pipefail
if [ -s /tls/broker.p12 ] && [ -s /ca/ca.pem ]; then echo "broker certificate exists"; exit 0; fi
work=$(mktemp -d)
password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
store=(-storetype PKCS12 -storepass "$password")
keytool -genkeypair -alias ca -dname "CN=pinflow compose Kafka CA" -keyalg EC -groupname secp256r1 -validity 825 \
  -ext bc:c -keystore "$work/ca.p12" "${store[@]}"
keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" "${store[@]}" -file "$work/ca.pem"
keytool -genkeypair -alias broker -dname "CN=kafka" -keyalg EC -groupname secp256r1 -validity 825 \
  -keystore "$work/broker.p12" "${store[@]}"
keytool -certreq -alias broker -keystore "$work/broker.p12" "${store[@]}" \
  | keytool -gencert -alias ca -keystore "$work/ca.p12" "${store[@]}" -validity 825 -rfc \
      -ext SAN=dns:kafka,dns:localhost,ip:127.0.0.1 -ext EKU=serverAuth,clientAuth > "$work/broker.pem"
keytool -importcert -noprompt -alias ca -file "$work/ca.pem" -keystore "$work/broker.p12" "${store[@]}"
keytool -importcert -alias broker -file "$work/broker.pem" -keystore "$work/broker.p12" "${store[@]}"
cp "$work/broker.p12" /tls/broker.p12
printf '%s' "$password" > /tls/store-password
# The broker runs as the image's appuser.
chown appuser /tls/broker.p12 /tls/store-password
chmod 0400 /tls/broker.p12 /tls/store-password
cp "$work/ca.pem" /ca/ca.pem
chmod 0444 /ca/ca.pem
rm -rf "$work"
echo "made a CA and the broker's certificate"
