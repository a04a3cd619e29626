#!/bin/bash
# A hand-made mirror-registry 1.3.11 install (what its Ansible role lays down), with the contract images:
# plain units with `podman run` ExecStart lines, quayRoot with config.yaml + a CA-issued cert, podman
# secrets pgdb_pass/redis_pass, named volumes pg-storage/quay-storage. Run as the installing user
# (root: /etc/quay-install + /etc/systemd/system, as 1.2 did; else ~/quay-install + ~/.config/systemd/user).
# Usage: make-mr13-fixture.sh HOST PORT   — starts it and waits for /health/instance.
set -euo pipefail
HOST=$1 PORT=$2
IMG=localhost/mreg-test
if [ "$(id -u)" = 0 ]; then
  ROOT=/etc/quay-install UNITDIR=/etc/systemd/system SC=systemctl TARGET=multi-user.target
else
  ROOT=$HOME/quay-install UNITDIR=$HOME/.config/systemd/user SC="systemctl --user" TARGET=default.target
fi
# 1.3.11 generated 24 alphanumerics for both passwords (#142/#149); the keys are 48 base64 chars.
rnd() { local s; s=$(openssl rand -base64 120 | tr -dc 'A-Za-z0-9'); printf '%s' "${s:0:$1}"; }  # no SIGPIPE under pipefail
PGPW=$(rnd 24) REDISPW=$(rnd 24)

mkdir -p "$ROOT/quay-config" "$ROOT/quay-rootCA" "$UNITDIR"
cd "$ROOT"
cat > quay-config/openssl.cnf <<EOF
[req]
default_md = sha256
prompt = no
distinguished_name = dn
x509_extensions = v3_req
[dn]
C = US
O = Quay
CN = $HOST
[v3_req]
keyUsage = nonRepudiation, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:$HOST
EOF
openssl genrsa -out quay-rootCA/rootCA.key 2048 2>/dev/null
openssl req -x509 -new -config quay-config/openssl.cnf -nodes -key quay-rootCA/rootCA.key -sha256 -days 1024 \
  -out quay-rootCA/rootCA.pem -addext basicConstraints=critical,CA:TRUE,pathlen:1 2>/dev/null
openssl genrsa -out quay-config/ssl.key 2048 2>/dev/null
openssl req -new -key quay-config/ssl.key -out quay-config/ssl.csr -subj /CN=quay-enterprise -config quay-config/openssl.cnf
openssl x509 -req -in quay-config/ssl.csr -CA quay-rootCA/rootCA.pem -CAkey quay-rootCA/rootCA.key -CAcreateserial \
  -out quay-config/ssl.cert -days 356 -extensions v3_req -extfile quay-config/openssl.cnf 2>/dev/null
cat quay-config/ssl.cert quay-rootCA/rootCA.pem > quay-config/chain.cert && mv quay-config/chain.cert quay-config/ssl.cert
chmod 0644 quay-config/ssl.key quay-config/ssl.cert

# The 1.3 template's shape: block maps, bare scalars, quoted keys, DB_URI without a port.
cat > quay-config/config.yaml <<EOF
AUTHENTICATION_TYPE: Database
BUILDLOGS_REDIS:
  host: localhost
  password: $REDISPW
  port: 6379
DATABASE_SECRET_KEY: '$(rnd 48)'
DB_URI: postgresql://user:$PGPW@localhost/quay
DEFAULT_TAG_EXPIRATION: 2w
DISTRIBUTED_STORAGE_CONFIG:
  default:
  - LocalStorage
  - storage_path: /datastorage
DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: []
DISTRIBUTED_STORAGE_PREFERENCE:
- default
ENTERPRISE_LOGO_URL: /static/img/quay-horizontal-color.svg
FEATURE_ANONYMOUS_ACCESS: true
FEATURE_USER_LOG_ACCESS: true
GITHUB_LOGIN_CONFIG: {}
FEATURE_USER_INITIALIZE: true
FEATURE_USER_CREATION: true
PREFERRED_URL_SCHEME: https
SECRET_KEY: '$(rnd 48)'
SERVER_HOSTNAME: $HOST:$PORT
SETUP_COMPLETE: true
SUPER_USERS:
- admin
TEAM_RESYNC_STALE_TIME: 60m
USER_EVENTS_REDIS:
  host: localhost
  password: $REDISPW
  port: 6379
EOF
chmod 0750 quay-config/config.yaml

printf '%s' "$PGPW" | podman secret create pgdb_pass - >/dev/null
printf '%s' "$REDISPW" | podman secret create redis_pass - >/dev/null
podman volume create pg-storage >/dev/null
podman volume create quay-storage >/dev/null

common_service='Type=simple
TimeoutStartSec=5m
ExecStartPre=-/bin/rm -f %t/%n-pid %t/%n-cid'
tail_service="PIDFile=%t/%n-pid
KillMode=none
Restart=always
RestartSec=30

[Install]
WantedBy=multi-user.target default.target"

# mirror-registry's pod runs the ubi8 pause image it imports from pause.tar; here podman's own pause
# image (built by a first pod create) under that name.
PAUSE=registry.access.redhat.com/ubi8/pause:8.7-6
if ! podman image exists $PAUSE; then
  podman pod create --name mreg-fixture-pause >/dev/null && podman pod rm mreg-fixture-pause >/dev/null
  podman tag "$(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/podman-pause:' | head -1)" $PAUSE
fi

cat > "$UNITDIR/quay-pod.service" <<EOF
[Unit]
Description=Infra Container for Quay
Wants=network.target
After=network-online.target
Before=quay-postgres.service quay-redis.service

[Service]
$common_service
RemainAfterExit=yes
ExecStart=/usr/bin/podman pod create \\
    --name quay-pod \\
    --infra-image $PAUSE \\
    --publish $PORT:8443 \\
    --pod-id-file %t/%n-pod-id \\
    --replace
ExecStop=-/usr/bin/podman pod stop --ignore --pod-id-file %t/%n-pod-id -t 10
ExecStopPost=-/usr/bin/podman pod rm --ignore -f --pod-id-file %t/%n-pod-id
$tail_service
EOF

cat > "$UNITDIR/quay-postgres.service" <<EOF
[Unit]
Description=PostgreSQL Podman Container for Quay
Wants=network.target
After=network-online.target quay-pod.service
Requires=quay-pod.service

[Service]
$common_service
ExecStart=/usr/bin/podman run \\
    --name quay-postgres \\
    -v pg-storage:/var/lib/pgsql/data:Z \\
    --image-volume=ignore \\
    -e POSTGRESQL_USER=user \\
    -e POSTGRESQL_DATABASE=quay \\
    --secret=pgdb_pass,type=env,target=POSTGRESQL_PASSWORD \\
    --pod=quay-pod \\
    --conmon-pidfile %t/%n-pid \\
    --cidfile %t/%n-cid \\
    --cgroups=no-conmon \\
    --replace \\
    $IMG/postgres:15
ExecStop=/usr/bin/podman stop --ignore --cidfile %t/%n-cid -t 10
ExecStopPost=/usr/bin/podman rm --ignore -f --cidfile %t/%n-cid
$tail_service
EOF

cat > "$UNITDIR/quay-redis.service" <<EOF
[Unit]
Description=Redis Podman Container for Quay
Wants=network.target
After=network-online.target quay-pod.service
Requires=quay-pod.service

[Service]
$common_service
ExecStart=/usr/bin/podman run \\
    --name quay-redis \\
    --pod=quay-pod \\
    --image-volume=ignore \\
    --conmon-pidfile %t/%n-pid \\
    --cidfile %t/%n-cid \\
    --cgroups=no-conmon \\
    --secret=redis_pass,type=env,target=REDIS_PASSWORD \\
    --replace \\
    $IMG/redis:7
ExecStop=-/usr/bin/podman stop --ignore --cidfile %t/%n-cid -t 10
ExecStopPost=-/usr/bin/podman rm --ignore -f --cidfile %t/%n-cid
$tail_service
EOF

cat > "$UNITDIR/quay-app.service" <<EOF
[Unit]
Description=Quay Container
Wants=network.target
After=network-online.target quay-pod.service quay-postgres.service quay-redis.service
Requires=quay-pod.service quay-postgres.service quay-redis.service

[Service]
$common_service
Environment=PODMAN_SYSTEMD_UNIT=%n
ExecStart=/usr/bin/podman run \\
    --name quay-app \\
    -v $ROOT/quay-config:/quay-registry/conf/stack:Z \\
    -v quay-storage:/datastorage:Z \\
    --image-volume=ignore \\
    --pod=quay-pod \\
    --conmon-pidfile %t/%n-pid \\
    --cidfile %t/%n-cid \\
    --cgroups=no-conmon \\
    --replace \\
    $IMG/quay:v1
ExecStop=-/usr/bin/podman stop --ignore --cidfile %t/%n-cid -t 10
ExecStopPost=-/usr/bin/podman rm --ignore -f --cidfile %t/%n-cid
$tail_service
EOF

$SC daemon-reload
$SC enable quay-pod.service quay-postgres.service quay-redis.service quay-app.service 2>/dev/null
$SC start quay-pod.service quay-postgres.service quay-redis.service
# Quay's standin needs Postgres answering to create its table: 1.3 had no readiness gating either.
for _ in $(seq 1 120); do podman exec quay-postgres pg_isready -q -h 127.0.0.1 2>/dev/null && break; sleep 2; done
# mirror-registry 1.3's install-postgres-service.yaml: pg_trgm through podman exec (Quay refuses to start without it)
podman exec quay-postgres psql -d quay -U postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' >/dev/null
$SC start quay-app.service
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ROOT/quay-rootCA/rootCA.pem" "https://$HOST:$PORT/health/instance")" = 200 ] && exit 0
  sleep 2
done
echo "mirror-registry fixture did not become healthy" >&2
exit 1
