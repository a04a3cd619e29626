#!/bin/bash
# The floor for "mreg up" (issue 19): mreg's own Quadlet files, already rendered (saved from the warm-up
# install), config and secrets kept, then only what any Quadlet install must do: daemon-reload, start
# quay-app (its Requires= pulls in postgres, redis and the pod; it has no Notify=healthy, so the job ends
# when the container runs) and poll /health/instance every 100 ms. Runs as root in the guest.
set -euo pipefail
SAVED=${1:?folder with the saved Quadlet files}
URL=${BENCH_URL:-https://mreg-vm.example.test:8443/health/instance}
CA=${BENCH_CA:-/etc/quay-install/quay-rootCA/rootCA.pem}
now() { date +%s%3N; }
deadline=$(( $(now) + 900000 ))
cp "$SAVED"/* /etc/containers/systemd/
systemctl daemon-reload
systemctl start quay-app.service
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "$URL")" = 200 ]; do
  [ "$(now)" -lt "$deadline" ] || { echo "floor-up: no 200 from $URL" >&2; exit 1; }
  sleep 0.1
done
