#!/bin/bash
# The hand-written baseline for "mreg up": the same pod and containers as mreg's Quadlet units (same images,
# port, volumes, config folder), with plain podman commands and 100 ms polling instead of healthchecks.
# Runs as root in the guest, images already present, data already initialised (as for the mreg run).
# Secrets come in the environment: PG_PASSWORD, PG_ADMIN_PASSWORD, REDIS_PASSWORD.
# Prints "baseline-up-ms N" on success.
set -euo pipefail
: "${PG_PASSWORD:?}" "${PG_ADMIN_PASSWORD:?}" "${REDIS_PASSWORD:?}"
IMG=${IMG:-localhost/mreg-test}
QUAY_IMAGE=${QUAY_IMAGE:-$IMG/quay:v1}
ROOT=${QUAY_ROOT:-/etc/quay-install}
HOSTPORT=${HOSTPORT:-mreg-vm.example.test:8443}
TIMEOUT_S=${TIMEOUT_S:-900}
now() { date +%s%3N; }
t0=$(now)
deadline=$(( t0 + TIMEOUT_S * 1000 ))
until_ok() { # poll a command every 100 ms (the same cadence for every wait, so nothing waits on an interval)
  until "$@" >/dev/null 2>&1; do
    [ "$(now)" -lt "$deadline" ] || { echo "baseline-up: timed out waiting for: $*" >&2; exit 1; }
    sleep 0.1
  done
}

podman pod create --name quay-pod --publish 8443:8443 >/dev/null
# podman passes -e NAME through from this environment, so no secret is in argv
POSTGRESQL_PASSWORD=$PG_PASSWORD POSTGRESQL_ADMIN_PASSWORD=$PG_ADMIN_PASSWORD \
  podman run -d --pod quay-pod --name quay-postgres \
    -v pg-storage:/var/lib/pgsql/data:U -v "$ROOT/postgres-start:/opt/app-root/src/postgresql-start:ro,Z" \
    -e POSTGRESQL_USER=quay -e POSTGRESQL_DATABASE=quay -e POSTGRESQL_PASSWORD -e POSTGRESQL_ADMIN_PASSWORD \
    "$IMG/postgres:15" >/dev/null
podman run -d --pod quay-pod --name quay-redis -e REDIS_PASSWORD "$IMG/redis:7" >/dev/null

# Quay only after a ready database and Redis (as mreg's After=), probed from the guest at the pod's address.
ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(podman pod inspect -f '{{.InfraContainerID}}' quay-pod)")
until_ok pg_isready -q -h "$ip" -p 5432
redis_ok() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h "$ip" -p 6379 ping | grep -q PONG; }
until_ok redis_ok

podman run -d --pod quay-pod --name quay-app \
  -v "$ROOT/quay-config:/quay-registry/conf/stack:Z" -v quay-storage:/datastorage "$QUAY_IMAGE" >/dev/null
health() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ROOT/quay-rootCA/rootCA.pem" "https://$HOSTPORT/health/instance")" = 200 ]; }
until_ok health
echo "baseline-up-ms $(( $(now) - t0 ))"
