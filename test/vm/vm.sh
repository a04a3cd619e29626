#!/bin/bash
# vm.sh — mreg's proving ground: a Debian 13 (trixie) guest with systemd as PID 1 and podman 5 (Quadlet),
# booted under QEMU/TCG (this CI kind has no systemd and no usable KVM; see /work/shared/docs/test-vm.md).
#
#   vm.sh build            build the base image, or reuse the cached one (/var/cache/mreg-vm/<key>/)
#   vm.sh start            boot a throw-away qcow2 overlay of the base image and wait for ssh
#   vm.sh stop             power the guest off (kills QEMU if it does not go)
#   vm.sh ssh  CMD...      run CMD as root in the guest (stdin is forwarded)
#   vm.sh ussh CMD...      run CMD as user mreg (uid 1000, linger on, `systemctl --user` works)
#   vm.sh push DIR DEST    copy DIR's contents to DEST in the guest (root-owned, world-readable)
#   vm.sh cachedir         print the cache directory for the current key
#   vm.sh is-cached        exit 0 if the base image for the current key exists
#   vm.sh prune            delete cached images of other keys
# Env: PORT (ssh port on 127.0.0.1, default 2222), RUN (run dir, default /tmp/mreg-vm-run-$PORT),
#      CACHE_ROOT, CACHE_SALT (bump to pick up Debian updates), MEM, SMP, BOOT_TIMEOUT.
# Timing lines start with "mreg-vm-timing:".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES=$(cd "$HERE/../images" && pwd)

# ===== Everything from here to the marker shapes the cached image and is hashed into the cache key. =====
SUITE=trixie
# debootstrap installs Depends only: podman's runtime helpers (nftables above all) are listed by hand.
# The Ceph line is the S3 engine test/vm/guest/ceph-up.sh starts by hand (issue 18); configure() masks its units.
GUEST_PKGS=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,\
podman,crun,conmon,netavark,aardvark-dns,nftables,passt,slirp4netns,uidmap,catatonit,fuse-overlayfs,\
linux-image-amd64,initramfs-tools,openssh-server,sudo,iproute2,procps,psmisc,less,ca-certificates,openssl,\
curl,apache2-utils,nodejs,redis-tools,postgresql-client,acl,jq,\
ceph-mon,ceph-osd,radosgw,ceph-common
# One rootfs for every contract image (imported once per store, then thin `podman build`s on top).
IMG_PKGS=postgresql-17,postgresql-client-17,redis-server,redis-tools,docker-registry,nodejs,node-js-yaml,curl,procps,ca-certificates
GUEST_FQDN=mreg-vm.example.test
DISK_SIZE=12G

# 1. guest rootfs (debootstrap) and contract-image rootfs (mmdebstrap), in parallel.
make_rootfs() {
  local t; t=$(ts)
  # own session, so a failure can stop debootstrap and all its children (see the EXIT trap in build)
  setsid debootstrap --variant=minbase --include="$GUEST_PKGS" --components=main "$SUITE" "$R" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 &
  DPID=$!
  # docs/man/locales never reach the image; the hook trims the rest and creates uid 26/1001.
  mmdebstrap --quiet --variant=minbase --include="$IMG_PKGS" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --customize-hook="sh '$IMAGES/rootfs-customize.sh' \"\$1\"" \
    "$SUITE" "$WORK/base.tar" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1 \
    || { tail -40 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
  # /run is a tmpfs while hooks run, so the postgres socket dir (uid 26) is appended to the tar here
  mkdir -p "$WORK/extra/run/postgresql"
  tar -rf "$WORK/base.tar" -C "$WORK/extra" --owner=26 --group=0 --mode=2775 --numeric-owner ./run/postgresql
  # the hook must have left these (they are what the Containerfiles rely on)
  tar -tf "$WORK/base.tar" >"$WORK/base.list"
  local need
  for need in ./run/postgresql/ ./usr/local/bin/psql ./usr/local/bin/pg_isready ./datastorage/ \
      ./usr/share/nodejs/js-yaml/package.json ./usr/bin/docker-registry ./usr/bin/node ./usr/bin/redis-cli; do
    grep -qxF "$need" "$WORK/base.list" || die "base.tar lacks $need (see rootfs-customize.sh)"; done
  timing "image rootfs (mmdebstrap, $(du -h "$WORK/base.tar" | cut -f1))" "$t"
  wait "$DPID" || { tail -40 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  DPID=
  timing "guest rootfs (debootstrap, $(du -sh "$R" | cut -f1))" "$t"
}

# 2. configure the guest offline, in a chroot.
configure() {
  local t; t=$(ts)
  ssh-keygen -q -t ed25519 -N '' -C mreg-vm -f "$STAGE/id_ed25519"
  echo mreg-vm >"$R/etc/hostname"
  # `hostname -f` must give a resolvable FQDN (mreg derives the Quay hostname from it)
  printf '127.0.0.1 localhost\n127.0.1.1 %s mreg-vm\n::1 localhost ip6-localhost ip6-loopback\n' "$GUEST_FQDN" >"$R/etc/hosts"
  echo '/dev/vda / ext4 defaults,noatime 0 1' >"$R/etc/fstab"
  mkdir -p "$R/etc/systemd/network" "$R/etc/systemd/system/serial-getty@ttyS0.service.d" "$R/etc/systemd/journald.conf.d"
  printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' >"$R/etc/systemd/network/10-wired.network"
  printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM\n' \
    >"$R/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
  printf '[Journal]\nSystemMaxUse=64M\n' >"$R/etc/systemd/journald.conf.d/size.conf"
  # Go's collector off below 128 MiB for every Go program the guest starts: podman, hundreds of times a
  # suite (by systemd's units, conmon's cleanup, mreg and the tests), never lives long enough to need it,
  # and under emulation it was 15 % of each podman's CPU (`podman run` 1.53 -> 1.32 s, inspect 0.33 -> 0.28).
  # System and user managers pass it to their units; pam_env (/etc/environment) to ssh sessions.
  mkdir -p "$R/etc/systemd/system.conf.d" "$R/etc/systemd/user.conf.d"
  printf '[Manager]\nDefaultEnvironment=GOGC=off GOMEMLIMIT=128MiB\n' >"$R/etc/systemd/system.conf.d/go-gc.conf"
  cp "$R/etc/systemd/system.conf.d/go-gc.conf" "$R/etc/systemd/user.conf.d/go-gc.conf"
  printf 'GOGC=off\nGOMEMLIMIT=128MiB\n' >>"$R/etc/environment"
  warm_unit
  # small initrd (virtio_blk + ext4 are modules in Debian's kernel): 11 MB instead of 36 MB
  sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
  printf 'virtio_blk\next4\n' >>"$R/etc/initramfs-tools/modules"
  chroot "$R" /bin/bash -e >"$WORK/configure.log" 2>&1 <<'IN'
passwd -d root
useradd -m -s /bin/bash -u 1000 mreg
grep -q '^mreg:' /etc/subuid || echo 'mreg:100000:65536' >>/etc/subuid
grep -q '^mreg:' /etc/subgid || echo 'mreg:100000:65536' >>/etc/subgid
mkdir -p /var/lib/systemd/linger && touch /var/lib/systemd/linger/mreg   # == loginctl enable-linger mreg
echo 'mreg ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/mreg
systemctl enable systemd-networkd
systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer man-db.timer
update-initramfs -u -k all
# Ceph runs only when a suite starts it (ceph-up.sh, no systemd units). Its packages and what they
# pull in (cron, logrotate, lvm2, nvme-cli, smartmontools, xfsprogs, e2fsprogs, uuid-runtime) enable
# units and radosgw's init script, which made the boot about 25 s longer; all masked, and ceph-osd's
# sysctl file (aio-max-nr) removed, so the guest the other suites see runs what it ran without Ceph.
systemctl mask -q $(ls /usr/lib/systemd/system | grep -E '^(ceph|rbdmap)' | grep -v '@') radosgw.service \
  cron.service logrotate.timer smartmontools.service e2scrub_reap.service xfs_scrub_all.timer lvm2-monitor.service \
  lvm2-lvmpolld.socket dm-event.socket blk-availability.service nvmefc-boot-connections.service \
  nvmf-autoconnect.service uuidd.socket
rm -f /etc/sysctl.d/30-ceph-osd.conf
IN
  for d in root home/mreg; do install -d -m 700 "$R/$d/.ssh"; cp "$STAGE/id_ed25519.pub" "$R/$d/.ssh/authorized_keys"; done
  chroot "$R" chown -R mreg:mreg /home/mreg/.ssh
  # Room for the side-by-side suites' concurrent commands on one multiplexed connection (default 10).
  # In the image, not set at boot: `systemctl reload ssh` there re-executes sshd, and a connection made
  # in that window through QEMU's port forward closes at once (a cold build's provisioning failed so).
  echo "MaxSessions 200" >"$R/etc/ssh/sshd_config.d/mreg-test-mux.conf"
  # build contexts + rootfs tar for the provisioning boot (deleted there once imported)
  mkdir -p "$R/opt/mreg-images"
  cp -r "$IMAGES"/. "$R/opt/mreg-images/"
  mv "$WORK/base.tar" "$R/opt/mreg-images/base.tar"
  chmod -R a+rX "$R/opt/mreg-images"
  cp "$R"/boot/vmlinuz-* "$STAGE/vmlinuz"; cp "$R"/boot/initrd.img-* "$STAGE/initrd.img"
  timing "configure (initrd $(du -h "$STAGE/initrd.img" | cut -f1))" "$t"
}

# Under multi-threaded TCG a vCPU can run a stale translation of kernel code that the other vCPU has just
# live-patched, and the guest dies with "Oops: int3" (kernel panic, reboot, every ssh connection closed).
# The kernel patches its code when a static key flips; during a suite that was the cpuset keys, flipped
# whenever a rootful container started after a daemon-reload (the first cpuset cgroup) and again when
# its cgroups went, plus one-time keys after each restore of `clean`: netfilter's on the first netavark
# use and the TCP/UDP hash secrets (DO_ONCE). Seen 2026-12-02 in get_page_from_freelist, under `ps`, right
# as both base installs started their containers. This unit flips them all once, at boot, before ssh
# (a panic then is the boot loop's to see): its Delegate=yes keeps the cpuset controller on for good,
# and the script warms the rest. Measured with kprobes on the static-key calls: both base installs then
# patch no kernel code at all (before: about 200 patch batches from a fresh boot through both installs,
# and 8 for every rootful down, daemon-reload and up after that).
warm_unit() {
  cat >"$R/usr/local/sbin/mreg-test-warm" <<'SH'
#!/bin/sh
# netfilter hooks and nf_tables: a rootful container with a published port, as netavark sets them up
podman run --rm -p 127.0.0.1:65000:65000 localhost/mreg-test/base:latest true
# the TCP and UDP hash secrets, IPv4 and IPv6: one connection and one datagram each over loopback
exec node -e '
const net = require("net"), dgram = require("dgram");
const tcp = h => new Promise(ok => { const s = net.createServer(c => c.end()).listen(0, h, () =>
  net.connect(s.address().port, h).on("close", () => s.close(ok)).end("x")); });
const udp = (t, h) => new Promise(ok => { const u = dgram.createSocket(t); u.bind(0, h, () =>
  u.send("x", u.address().port, h, () => u.close(ok))); });
Promise.all([tcp("127.0.0.1"), tcp("::1"), udp("udp4", "127.0.0.1"), udp("udp6", "::1")]);'
SH
  chmod 755 "$R/usr/local/sbin/mreg-test-warm"
  cat >"$R/etc/systemd/system/mreg-test-warm.service" <<'UNIT'
[Unit]
Description=mreg test VM: flip at boot the kernel switches container starts flip (see test/vm/vm.sh)
After=network.target
Before=ssh.service ssh.socket

[Service]
Type=exec
Delegate=yes
# "-": a failed warm-up must not cost the cpuset pin below
ExecStartPre=-/usr/local/sbin/mreg-test-warm
TimeoutStartSec=120
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
UNIT
}

# 3. ext4 image straight from the directory (no loop device, no mount).
make_disk() {
  local t; t=$(ts)
  mkfs.ext4 -q -F -L mreg-root -d "$R" "$WORK/disk.raw" "$DISK_SIZE" >/dev/null
  rm -rf "$R"
  timing "mkfs.ext4 -d" "$t"
}

# 4. provisioning boot: contract images into both stores (in parallel), pause image, trim.
provision() {
  local t; t=$(ts)
  boot "$WORK/disk.raw" raw || die "provisioning boot failed"
  timing "provisioning boot" "$t"
  t=$(ts)
  local rc=0
  gssh root@127.0.0.1 'bash /opt/mreg-images/provision.sh' >"$WORK/provision-root.log" 2>&1 & local p1=$!
  gssh mreg@127.0.0.1 'bash /opt/mreg-images/provision.sh' >"$WORK/provision-user.log" 2>&1 & local p2=$!
  wait "$p1" || rc=1; wait "$p2" || rc=1
  grep -h '^mreg-vm-timing:' "$WORK"/provision-*.log >&2 || true
  if [ "$rc" != 0 ]; then cat "$WORK"/provision-*.log >&2; die "provisioning failed"; fi
  sed -n '/^localhost/p' "$WORK/provision-user.log" | sed 's/^/  rootless image: /' >&2
  gssh root@127.0.0.1 'set -e; systemctl enable -q mreg-test-warm; rm -rf /opt/mreg-images; journalctl --rotate --vacuum-time=1s -q; sync; fstrim -a' \
    >"$WORK/cleanup.log" 2>&1 || { cat "$WORK/cleanup.log" >&2; die "cleanup failed"; }
  timing "provision (images rootful + rootless)" "$t"
  halt_vm
}
# ===== end of cache key =====

MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE_ROOT=${CACHE_ROOT:-/var/cache/mreg-vm}
CACHE_SALT=${CACHE_SALT:-2026-11-24}
PORT=${PORT:-2222}
RUN=${RUN:-/tmp/mreg-vm-run-$PORT}
MEM=${MEM:-4096}
SMP=${SMP:-2}
CPU=${CPU:-Westmere}   # x86-64-v2 with AES-NI and PCLMUL, no AVX: TCG emulates AVX slowly (max: mreg --version 1.16 s vs 0.82 s);
#   qemu64 has no AES-NI, and TLS-heavy first starts were far slower on it
# tb-size: QEMU's cache of translated guest code, at its 2 GiB maximum. At 512 MiB it was thrown away and
# rebuilt 30 times in 20 minutes of a suite (`info jit` on the monitor: "TB flush count"); at 2 GiB twice.
ACCEL=${ACCEL:-tcg,thread=multi,tb-size=2048}   # KVM here is PVM-nested and cannot boot a stock kernel
# panic=1: the guest kernel can oops while patching its own code on a second vCPU under multi-threaded
# TCG (seen 2026-11-30: "Oops: int3" in sched_clock_cpu at 2.9 s); it then reboots in a second
# instead of hanging until the 300 s ssh timeout fails the run.
# ASLR=off (norandmaps): every run of a program maps its code at the same addresses, so TCG reuses the
# code it translated for the last run instead of translating it again. Measured 2026-12-02 in the guest:
# `podman ps` 1.0-1.2 s -> 0.57 s, `openssl version` 0.20 -> 0.09 s; with the 2 GiB cache the base install
# took 214 s instead of 291 s. Only the throwaway guest runs so; `npm run bench` keeps ASLR on.
# tsc=reliable: no clocksource watchdog. Under TCG the TSC drifts against the HPET it is checked with
# ("Long readout interval, skipping watchdog check" at 60 s); marked unstable, the guest would move to the
# HPET, whose every read is an emulated device access.
ASLR=${ASLR:-off}
NORANDMAPS=''; if [ "$ASLR" = off ]; then NORANDMAPS=' norandmaps'; fi   # not $([ … ] && echo): under set -e its failure ends the script
KARGS=${KARGS:-quiet loglevel=3 mitigations=off panic=1 tsc=reliable$NORANDMAPS}

ts() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.1f", b-a}'; }
timing() { echo "mreg-vm-timing: $1 $(el "$2")s" >&2; }
log() { echo "[vm.sh $(date +%T)] $*" >&2; }
die() { echo "vm.sh: ERROR: $*" >&2; exit 1; }

# The key covers the image-shaping part of this file and every file under test/images/ (baked in).
cache_key() {
  { sed -n '1,/^# ===== end of cache key =====$/p' "$HERE/vm.sh"
    (cd "$IMAGES" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "$CACHE_SALT"; } | sha256sum | cut -c1-16
}
KEY=$(cache_key)
CACHE=${VM_CACHE_DIR:-$CACHE_ROOT/$KEY}   # VM_CACHE_DIR: boot an older cached image (debugging only)

# Per-boot state: VMPORT, VMRUN and VMKEYDIR (where vmlinuz/initrd/ssh key are) select the instance.
VMPORT=$PORT VMRUN=$RUN
gssh() {
  ssh -q -i "$VMRUN/id_ed25519" -p "$VMPORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 -o LogLevel=ERROR -o ServerAliveInterval=15 -o ServerAliveCountMax=8 -o BatchMode=yes "$@"
}
# One ssh connection per guest user, reused by every command (ControlMaster): a new connection costs
# about a second of emulated CPU (key exchange, PAM, a logind session) and the suites run thousands.
# MUX=0 connects afresh each time. Masters are closed before a snapshot is saved or restored and at stop.
gssh_as() { # USER CMD...
  local u=$1 cp="$VMRUN/mux-$1"; shift
  if [ "${MUX:-1}" = 1 ] && ! ssh -q -o ControlPath="$cp" -O check "$u@127.0.0.1" 2>/dev/null; then
    # A socket no master answers on (its ssh was killed: a dev loop's kill -9, a VM gone) is removed
    # first: left there, the new master cannot bind it, keeps its own connection running in the
    # background, and every command then opens two connections instead of none.
    ( flock 8
      ssh -q -o ControlPath="$cp" -O check "$u@127.0.0.1" 2>/dev/null ||
        { rm -f "$cp"; gssh -f -N -o ControlMaster=yes -o ControlPersist=yes -o ControlPath="$cp" "$u@127.0.0.1" </dev/null >/dev/null 2>&1; }
    ) 8>"$cp.lock" || true
  fi
  local before rc=0; before=$(panics)
  # Over the master, or (MUX=0, or it could not start) a connection of its own.
  gssh -o ControlMaster=no -o ControlPath="$cp" "$u@127.0.0.1" -- "$@" || rc=$?
  # A lost connection is most often the guest kernel dying under TCG: say so where the test shows it.
  if [ "$rc" = 255 ] && [ "$(panics)" -gt "$before" ]; then
    log "the guest kernel panicked during this command (so ssh lost it): $(oopses | tail -1)"
  fi
  return "$rc"
}
panics() { local n; n=$(grep -a -c 'Kernel panic' "$VMRUN/console.log" 2>/dev/null); echo "${n:-0}"; }
oopses() { grep -a -E 'Oops|BUG:' "$VMRUN/console.log" 2>/dev/null; }   # where each panic began
panic_report() {
  local n; n=$(panics)
  [ "$n" = 0 ] || log "the guest kernel panicked $n time(s) since boot (see $VMRUN/console.log): $(oopses | cut -c1-100 | sort | uniq -c | xargs)"
}
mux_close() { local u; for u in root mreg; do ssh -q -o ControlPath="$VMRUN/mux-$u" -O exit "$u@127.0.0.1" 2>/dev/null || true; done; }
qemu_pid() { local p; p=$(cat "$VMRUN/qemu.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"; }
console_tail() { echo "---- guest console (last 40 lines of $VMRUN/console.log) ----" >&2; tail -40 "$VMRUN/console.log" >&2 2>/dev/null || true; }

boot() { # $1 disk, $2 format; kernel, initrd and key come from $VMKEYDIR
  local t0; t0=$(ts)
  [ -z "$(qemu_pid)" ] || die "a VM is already running for $VMRUN (pid $(qemu_pid)); run 'vm.sh stop' first"
  if (exec 3<>"/dev/tcp/127.0.0.1/$VMPORT") 2>/dev/null; then die "127.0.0.1:$VMPORT is already in use (set PORT)"; fi
  mkdir -p "$VMRUN"; rm -f "$VMRUN/console.log" "$VMRUN/qemu.pid"
  install -m 600 "$VMKEYDIR/id_ed25519" "$VMRUN/id_ed25519"
  qemu-system-x86_64 -name mreg-vm -accel "$ACCEL" -cpu "$CPU" -smp "$SMP" -m "$MEM" \
    -kernel "$VMKEYDIR/vmlinuz" -initrd "$VMKEYDIR/initrd.img" -append "root=/dev/vda rw console=ttyS0 $KARGS" \
    -drive "file=$1,if=virtio,format=$2,cache=unsafe,discard=unmap" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$VMPORT-:22" -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci -display none -monitor "unix:$VMRUN/monitor.sock,server=on,wait=off" -serial "file:$VMRUN/console.log" \
    -daemonize -pidfile "$VMRUN/qemu.pid" || { console_tail; die "qemu failed to start"; }
  local seen=0 n
  until gssh root@127.0.0.1 true 2>/dev/null; do
    sleep 1
    n=$(panics)
    if [ "$n" -gt "$seen" ]; then seen=$n; log "guest kernel panicked while booting ($n so far; panic=1 reboots it): $(oopses | head -1 | tail -c 120)"; fi
    [ -n "$(qemu_pid)" ] || { console_tail; die "qemu exited during boot"; }
    if awk -v a="$t0" -v b="$(ts)" -v m="${BOOT_TIMEOUT:-300}" 'BEGIN{exit !(b-a>m)}'; then
      console_tail; kill "$(qemu_pid)" 2>/dev/null || true; die "no ssh after ${BOOT_TIMEOUT:-300}s"; fi
  done
  # ssh comes up before the boot is over; let systemd finish (degraded is fine, it is reported)
  local st; st=$(gssh root@127.0.0.1 'timeout 120 systemctl is-system-running --wait' 2>/dev/null || true)
  [ "$st" = running ] || log "system state: ${st:-unknown} ($(gssh root@127.0.0.1 'systemctl --failed --plain --no-legend | cut -d" " -f1 | xargs' 2>/dev/null))"
  timing "boot to ssh (port $VMPORT)" "$t0"
}

# One HMP command on the monitor socket; prints what QEMU answered (savevm/loadvm block until done).
hmp() {
  python3 - "$VMRUN/monitor.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); buf = b''
def prompt():
    global buf
    while not buf.endswith(b'(qemu) '):
        d = s.recv(65536)
        if not d: break
        buf += d
prompt(); buf = b''; s.sendall(sys.argv[2].encode() + b'\n'); prompt()
out = buf.decode(errors='replace').replace('\r', '').split('\n')[1:-1]
print('\n'.join(l for l in out if l.strip()))
PY
}

# Snapshots of the running guest (RAM and disk, inside the overlay): suites share an install this way
# instead of repeating its first start. The guest clock is set from the host after a restore.
snapshot() { # save|restore NAME
  [ -S "$VMRUN/monitor.sock" ] || die "no VM with a monitor socket in $VMRUN"
  local t out; t=$(ts)
  mux_close   # a snapshot must not hold, nor come back to, a half of a host connection
  case "$1" in
    save) out=$(hmp "savevm $2") ;;
    restore) out=$(hmp "loadvm $2") ;;
  esac
  [ -z "$out" ] || die "$1 $2: $out"
  if [ "$1" = restore ]; then
    gssh_as root "date -s @$(date +%s.%N) >/dev/null" || die "no ssh after restoring $2"
  fi
  timing "snapshot $1 $2" "$t"
}

halt_vm() {
  local pid; pid=$(qemu_pid) || return 0
  gssh root@127.0.0.1 'systemctl poweroff' 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  log "guest did not power off in 60 s; killing qemu $pid"
  kill "$pid" 2>/dev/null || true
}

# The test boot runs on a throwaway overlay that stop deletes, so nothing in the guest needs flushing:
# ending QEMU saves the 30-40 s a guest poweroff takes on TCG. (The provisioning boot halts cleanly.)
discard_vm() {
  local pid; pid=$(qemu_pid) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

ensure_tools() {
  local missing=0 c
  for c in qemu-system-x86_64 qemu-img debootstrap mmdebstrap mkfs.ext4 ssh ssh-keygen flock; do
    command -v "$c" >/dev/null || missing=1; done
  [ "$missing" = 0 ] && return 0
  local t; t=$(ts)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends qemu-system-x86 qemu-utils \
    debootstrap mmdebstrap e2fsprogs openssh-client util-linux ca-certificates >/dev/null \
    || die "could not install the host tools"
  timing "host tools installed" "$t"
}

build() {
  [ -f "$CACHE/base.qcow2" ] && { log "cache hit: $CACHE"; return 0; }
  ensure_tools
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.$KEY.lock"
  flock 9   # a concurrent build of the same key: wait for it, then reuse its result
  [ -f "$CACHE/base.qcow2" ] && { log "cache hit (built concurrently): $CACHE"; return 0; }
  log "cold build of $CACHE (key inputs: vm.sh top, test/images/*, CACHE_SALT=$CACHE_SALT)"
  local T0; T0=$(ts)
  WORK=/var/lib/mreg-vm/build-$KEY; R=$WORK/rootfs; STAGE=$CACHE_ROOT/.stage-$KEY
  rm -rf "$WORK" "$STAGE"; mkdir -p "$WORK" "$STAGE"
  VMPORT=${BUILD_PORT:-$((PORT + 1000))} VMRUN=$WORK/run VMKEYDIR=$STAGE   # the provisioning boot's instance
  DPID=
  trap 'rc=$?; if [ $rc != 0 ]; then [ -z "$DPID" ] || kill -- -"$DPID" 2>/dev/null; halt_vm; rm -rf "$STAGE"; echo "vm.sh: ERROR: build failed (exit $rc); logs in $WORK" >&2; fi' EXIT
  make_rootfs
  configure
  make_disk
  provision
  local t; t=$(ts)
  qemu-img convert -O qcow2 "$WORK/disk.raw" "$STAGE/base.qcow2"
  rm -f "$STAGE/base.qcow2.lock"; rm -rf "$CACHE"; mv "$STAGE" "$CACHE"
  timing "cache as qcow2 ($(du -h "$CACHE/base.qcow2" | cut -f1))" "$t"
  rm -rf "$WORK"
  timing "cold build total" "$T0"
  trap - EXIT
  exec 9>&-   # release the lock (a VM booted next by `start` must not inherit it)
}

# The dispatcher is a function so bash parses it whole: editing vm.sh during a long build is safe.
main() {
local cmd=${1:-}; shift || true
case "$cmd" in
  build) build ;;
  start)
    build
    VMPORT=$PORT VMRUN=$RUN VMKEYDIR=$CACHE
    [ -z "$(qemu_pid)" ] || die "already running (pid $(qemu_pid), $RUN); run 'vm.sh stop' first"
    mkdir -p "$RUN"; rm -f "$RUN/overlay.qcow2"
    # the overlay pins this key's base image, so later edits to test/images/ don't affect a running VM
    qemu-img create -q -f qcow2 -b "$CACHE/base.qcow2" -F qcow2 "$RUN/overlay.qcow2"
    echo "$CACHE" >"$RUN/cachedir"
    boot "$RUN/overlay.qcow2" qcow2 ;;
  stop) t=$(ts); panic_report; mux_close; discard_vm; rm -f "$RUN/overlay.qcow2"; timing "stop" "$t" ;;
  ssh)  [ -f "$RUN/id_ed25519" ] || die "no VM started in $RUN"; gssh_as root "$@" ;;
  ussh) [ -f "$RUN/id_ed25519" ] || die "no VM started in $RUN"; gssh_as mreg "$@" ;;
  push)
    [ $# = 2 ] && [ -d "$1" ] || die "usage: vm.sh push DIR DEST"
    dest=$(printf '%q' "$2")
    tar -C "$1" -cf - . | gssh_as root "set -e; mkdir -p $dest; tar -C $dest -xf - --no-same-owner; chmod -R a+rX $dest" ;;
  save|restore) [ $# = 1 ] || die "usage: vm.sh $cmd NAME"; VMPORT=$PORT VMRUN=$RUN; snapshot "$cmd" "$1" ;;
  snapshots) hmp 'info snapshots' ;;
  # process accounting for test/vm/extra/pacct.mjs: on (empty file), and a copy of it into DIR
  pacct-on) gssh_as root 'touch /var/log/pacct; perl -e "my \$f = q{/var/log/pacct}; syscall(163, \$f) == 0 or die qq{acct: \$!\n}"; : >/var/log/pacct' ;;
  pacct-copy)
    [ $# = 1 ] && [ -d "$1" ] || die "usage: vm.sh pacct-copy DIR"
    n="$1/$(date +%s%N)"
    gssh_as root 'cat /var/log/pacct' >"$n.pacct"
    gssh_as root 'for p in /proc/[0-9]*; do cat $p/stat 2>/dev/null; echo; done' >"$n.proc" ;;
  cachedir) echo "$CACHE" ;;
  kargs) echo "$KARGS" ;;
  is-cached) [ -f "$CACHE/base.qcow2" ] ;;
  prune) find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 ! -name "$KEY" ! -name ".$KEY.lock" -exec rm -rf {} + ;;
  *) echo "usage: vm.sh build|start|stop|ssh CMD...|ussh CMD...|push DIR DEST|save NAME|restore NAME|snapshots|pacct-on|pacct-copy DIR|cachedir|kargs|is-cached|prune" >&2; exit 2 ;;
esac
}
main "$@"; exit $?
