#!/bin/bash
# A real S3 engine for issue 18 (VM suites reach it through test/vm/s3.ts): a one-node Ceph 18.2.7 from
# Debian 13 (ceph-mon ceph-osd radosgw ceph-common, in the VM image), mon + one memstore OSD + radosgw,
# started by hand as root (no systemd units, no ceph-mgr). Proven natively in a trixie chroot on
# 2026-12-01: 2 s to "S3 answers", 22 of 22 S3 operations incl. CopyObject, multipart and
# UploadPartCopy, distribution 2.8's s3 driver pushes and pulls through it. Wipes previous state.
# Usage: ceph-up.sh            -> wipe, then mkfs + start mon, osd, rgw, create the S3 user
#        ceph-up.sh start      -> start the existing cluster again (after ceph-down.sh; data kept)
# Env: RGW_PORT (7480), RGW_SSL_PORT (7443, empty = no https), MEM_BYTES (1 GiB), S3_ACCESS_KEY, S3_SECRET_KEY,
#      S3_ADDR (192.0.2.80)
# Endpoint: http://$S3_ADDR:7480 and https://$S3_ADDR:7443, the same for the guest, rootful containers
# (bridge) and rootless ones (pasta). 127.0.0.1 is the container itself in both, and pasta copies the
# guest's own address into every rootless namespace, so RGW also answers on an address of its own: a
# TEST-NET-1 /32 on a dummy interface (mregs3), which no namespace has, so containers route it to the guest.
# TLS: /etc/ceph/rgw.crt is self-signed (no CA; SAN localhost, 127.0.0.1, $S3_ADDR); pass it as the CA
# bundle (curl --cacert, AWS_CA_BUNDLE). It is new after every wipe. Key /etc/ceph/rgw.key.
set -euo pipefail
RGW_PORT=${RGW_PORT:-7480}
RGW_SSL_PORT=${RGW_SSL_PORT-7443}
MEM_BYTES=${MEM_BYTES:-1073741824}
NICE=${NICE:-}
S3_ADDR=${S3_ADDR:-192.0.2.80}
T0=$(date +%s.%N)
lap() { local now; now=$(date +%s.%N); awk -v p="$1" -v n="$now" -v l="$LAST" -v t="$T0" 'BEGIN { printf "PHASE %-10s %6.2fs  (total %6.2fs)\n", p, n - l, n - t }'; LAST=$now; }
LAST=$T0
s3_addr() {
  ip link show mregs3 >/dev/null 2>&1 || ip link add mregs3 type dummy
  ip addr replace "$S3_ADDR/32" dev mregs3
  ip link set mregs3 up
}

# ---- restart an existing cluster (after ceph-down.sh): no mkfs, data kept ----
if [ "${1:-}" = start ]; then
  mkdir -p /run/ceph /var/log/ceph
  s3_addr
  $NICE ceph-mon -i a
  until ceph -s --connect-timeout 2 >/dev/null 2>&1; do sleep 0.2; done; lap mon-up
  for d in /var/lib/ceph/osd/ceph-*; do $NICE ceph-osd -i "${d##*-}"; done
  until ceph osd dump 2>/dev/null | grep -q "^osd.0 up"; do sleep 0.2; done; lap osd-up
  $NICE radosgw -n client.rgw.a
  until curl -s -o /dev/null "http://$S3_ADDR:$RGW_PORT/"; do sleep 0.2; done; lap rgw-up
  exit 0
fi

# ---- 0. clean up any previous run -------------------------------------------
old=$(pgrep -f '^(radosgw|ceph-osd|ceph-mon) ' || true)
if [ -n "$old" ]; then
  kill -9 $old; for i in $(seq 1 50); do kill -0 $old 2>/dev/null || break; sleep 0.1; done
fi
rm -rf /etc/ceph/ceph.conf /etc/ceph/*.keyring /var/lib/ceph/mon /var/lib/ceph/osd \
       /var/lib/ceph/radosgw /var/log/ceph/* /run/ceph /tmp/ceph-boot
mkdir -p /etc/ceph /var/lib/ceph/mon/ceph-a /var/lib/ceph/radosgw/ceph-rgw.a \
         /var/log/ceph /run/ceph /tmp/ceph-boot

s3_addr
lap cleanup
FSID=$(cat /proc/sys/kernel/random/uuid)

# ---- 1. config ---------------------------------------------------------------
SSL=""
if [ -n "$RGW_SSL_PORT" ]; then
  # an end-entity certificate (CA:FALSE, serverAuth) trusted as itself: Python's strict verification takes it too
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj /CN=mreg-test-s3 \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:$S3_ADDR" -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth" \
    -keyout /etc/ceph/rgw.key -out /etc/ceph/rgw.crt 2>/dev/null
  chmod 644 /etc/ceph/rgw.crt
  (umask 077; cat /etc/ceph/rgw.crt /etc/ceph/rgw.key > /etc/ceph/rgw.pem)
  SSL=" ssl_port=$RGW_SSL_PORT ssl_certificate=/etc/ceph/rgw.pem"
fi
cat > /etc/ceph/ceph.conf <<EOF
[global]
fsid = $FSID
mon_host = 127.0.0.1
public_network = 127.0.0.0/8
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
# no osd_pool_default_pgp_num: rgw makes its pools with pg_num 1, and a larger pgp_num kills it at start (ERANGE)
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
auth_allow_insecure_global_id_reclaim = false
run_dir = /run/ceph
log_file = /var/log/ceph/\$cluster-\$name.log

[mon]
mon_data = /var/lib/ceph/mon/\$cluster-\$id
# default warn 30% / crit 5% free on the mon's filesystem (crit stops the mon)
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# propose monitor map changes quickly (default 1 s batching) -> osd up in 0.3 s instead of 3 s
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[osd]
osd_objectstore = memstore
memstore_device_bytes = $MEM_BYTES
# full umount on SIGTERM, so memstore dumps its contents to osd_data and reloads them at start
# (a SIGKILL still loses everything; a full memstore hangs PUT/DELETE with no error: size it generously)
osd_fast_shutdown = false
osd_data = /var/lib/ceph/osd/\$cluster-\$id
# Debian's default is the relative lib/<triplet>/rados-classes: from any cwd but / the OSD finds none of
# the object classes and radosgw dies at start with EOPNOTSUPP ("failed to start notify service")
osd_class_dir = $(dirname "$(ls /usr/lib/*/rados-classes/libcls_rgw.so)")

[client.rgw.a]
keyring = /var/lib/ceph/radosgw/ceph-rgw.a/keyring
rgw_frontends = beast endpoint=0.0.0.0:$RGW_PORT$SSL tcp_nodelay=1
rgw_thread_pool_size = ${RGW_THREADS:-64}
EOF
lap config

# ---- 2. monitor --------------------------------------------------------------
ceph-authtool --create-keyring /tmp/ceph-boot/mon.keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring /etc/ceph/ceph.client.admin.keyring --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool /tmp/ceph-boot/mon.keyring --import-keyring /etc/ceph/ceph.client.admin.keyring >/dev/null
monmaptool --create --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' --fsid "$FSID" /tmp/ceph-boot/monmap >/dev/null
ceph-mon --mkfs -i a --monmap /tmp/ceph-boot/monmap --keyring /tmp/ceph-boot/mon.keyring
lap mon-mkfs
$NICE ceph-mon -i a
until ceph -s --connect-timeout 2 >/dev/null 2>&1; do sleep 0.2; done
ceph health mute MGR_DOWN --sticky   # no mgr (not needed for rgw): keep HEALTH_OK
lap mon-up

# ---- 3. OSD (memstore) -------------------------------------------------------
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_SECRET=$(ceph-authtool --gen-print-key)
ID=$(echo "{\"cephx_secret\": \"$OSD_SECRET\"}" | ceph osd new "$OSD_UUID" -i - -n client.admin -k /etc/ceph/ceph.client.admin.keyring)
mkdir -p /var/lib/ceph/osd/ceph-$ID
ceph-authtool --create-keyring /var/lib/ceph/osd/ceph-$ID/keyring --name osd.$ID --add-key "$OSD_SECRET" >/dev/null
ceph-osd -i "$ID" --mkfs --osd-uuid "$OSD_UUID" 2>&1 | grep -v '^$' || true
lap osd-mkfs
$NICE ceph-osd -i "$ID"
until ceph osd dump 2>/dev/null | grep -q "^osd.$ID up"; do sleep 0.2; done
lap osd-up

# ---- 4. radosgw --------------------------------------------------------------
ceph auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
  -o /var/lib/ceph/radosgw/ceph-rgw.a/keyring
$NICE radosgw -n client.rgw.a
until curl -s -o /dev/null "http://$S3_ADDR:$RGW_PORT/"; do
  pgrep -f '^radosgw ' >/dev/null || { echo "radosgw died:"; tail -5 /var/log/ceph/ceph-client.rgw.a.log; exit 1; }
  sleep 0.2
done
lap rgw-up

# ---- 5. S3 user --------------------------------------------------------------
radosgw-admin user create --uid=quay --display-name=quay \
  --access-key=${S3_ACCESS_KEY:-QUAYACCESSKEY0000000} --secret-key=${S3_SECRET_KEY:-quaysecretkey0000000000000000000000000000} >/dev/null
lap s3-user
echo "S3 answers at http://$S3_ADDR:$RGW_PORT${RGW_SSL_PORT:+ and https://$S3_ADDR:$RGW_SSL_PORT (CA bundle /etc/ceph/rgw.crt)}"
