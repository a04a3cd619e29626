#!/bin/bash
# Runs in the guest during `vm.sh build`, once as root and once as user mreg (each has its own image
# store): imports the shared rootfs, builds the thin contract images, makes the tiny image and
# warms podman's pause image. Expects the build contexts in /opt/mreg-images.
set -euo pipefail
D=/opt/mreg-images
ts() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.1f", b-a}'; }
who=$(id -un)
step() { echo "mreg-vm-timing: provision[$who] $1 $(el "$2")s"; }

t=$(ts)
podman import -q --change 'CMD ["/bin/bash"]' "$D/base.tar" localhost/mreg-test/base:latest >/dev/null
step "import base" "$t"

t=$(ts)
b() { podman build -q --network=none --layers=false "$@" >/dev/null; }
b -t localhost/mreg-test/postgres:15 "$D/postgres"
b -t localhost/mreg-test/redis:7 "$D/redis"
b -t localhost/mreg-test/quay:v1 --build-arg STANDIN_VERSION=v1 "$D/quay"
b -t localhost/mreg-test/quay:v2 --build-arg STANDIN_VERSION=v2 --build-arg STANDIN_SCHEMA=2 "$D/quay"
b -t localhost/mreg-test/quay:broken --build-arg STANDIN_VERSION=broken --build-arg STANDIN_SCHEMA=2 --build-arg STANDIN_BROKEN=1 "$D/quay"
# v3 migrates the schema to 3 and then never gets healthy: a new Quay that cannot be rolled back without the data
b -t localhost/mreg-test/quay:v3 --build-arg STANDIN_VERSION=v3 --build-arg STANDIN_SCHEMA=3 --build-arg STANDIN_BROKEN=1 "$D/quay"
step "build images" "$t"

t=$(ts)  # tiny: one text file, for fast push/pull tests
tmp=$(mktemp -d); echo 'mreg-test tiny image' > "$tmp/hello.txt"
tar -C "$tmp" -c hello.txt | podman import -q --change 'CMD ["/hello.txt"]' - localhost/mreg-test/tiny:1 >/dev/null
rm -rf "$tmp"
podman pod create --name warm >/dev/null && podman pod rm warm >/dev/null   # builds localhost/podman-pause
step "tiny + pause image" "$t"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sort
