#!/bin/sh
# mmdebstrap --customize-hook for the shared contract-image rootfs; $1 = the rootfs directory.
# Trims what no contract image needs (every MB costs podman-import time under TCG) and sets up
# the users and directories the real images have, so the Containerfiles need no RUN step.
set -eu
R=$1
# JIT/LLVM (jit=off), perl (only Debian's pg wrappers use it), docs, locales data, apt state.
rm -rf "$R"/usr/lib/x86_64-linux-gnu/libLLVM* "$R"/usr/lib/x86_64-linux-gnu/libz3* \
  "$R"/usr/lib/postgresql/17/lib/llvmjit* "$R"/usr/lib/postgresql/17/lib/bitcode \
  "$R"/var/lib/postgresql/17 "$R"/etc/postgresql/17 \
  "$R"/usr/share/perl "$R"/usr/lib/x86_64-linux-gnu/perl "$R"/usr/lib/x86_64-linux-gnu/perl-base \
  "$R"/usr/share/i18n "$R"/usr/share/info "$R"/usr/share/postgresql/17/man "$R"/usr/include \
  "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* "$R"/var/log/*.log "$R"/var/cache/debconf/*-old \
  "$R"/usr/bin/perl "$R"/usr/bin/perl5* "$R"/usr/lib/x86_64-linux-gnu/libperl.so* \
  "$R"/usr/share/nodejs/corepack "$R"/usr/bin/corepack \
  "$R"/usr/bin/apt* "$R"/usr/lib/x86_64-linux-gnu/libapt-* "$R"/usr/lib/apt "$R"/usr/bin/sqv

# sclorg images: postgres runs as uid 26 named "postgres" (home /var/lib/pgsql); redis and quay as
# uid 1001 ("default", primary group root, as in the sclorg/ubi images).
chroot "$R" usermod -u 26 -d /var/lib/pgsql postgres
# ... and group 26 (Debian's tape group has 26: move it out of the way)
oldgid=$(chroot "$R" getent group postgres | cut -d: -f3)
chroot "$R" groupmod -g 1026 tape
chroot "$R" groupmod -g 26 postgres
find "$R" -xdev -gid "$oldgid" -exec chgrp -h 26 {} +
chroot "$R" useradd -u 1001 -g 0 -d /opt/app-root/src -M -s /usr/sbin/nologin default
install -d -o 26 -g 0 -m 0770 "$R"/var/lib/pgsql "$R"/var/lib/pgsql/data
# (/run is a mount while hooks run: vm.sh appends ./run/postgresql to the tar instead)
install -d -o 1001 -g 0 -m 0770 "$R"/var/lib/redis "$R"/var/lib/redis/data
install -d -o 1001 -g 0 -m 0775 "$R"/opt/app-root "$R"/opt/app-root/src "$R"/datastorage \
  "$R"/quay-registry "$R"/quay-registry/conf "$R"/quay-registry/conf/stack
# Debian's /usr/bin/psql etc. are perl wrappers (perl is gone): expose the real binaries instead.
for b in "$R"/usr/lib/postgresql/17/bin/*; do ln -sf "/usr/lib/postgresql/17/bin/${b##*/}" "$R/usr/local/bin/${b##*/}"; done
# Generic entrypoint of the sclorg images: runs its arguments.
printf '#!/bin/sh\nexec "$@"\n' > "$R"/usr/bin/container-entrypoint
chmod 755 "$R"/usr/bin/container-entrypoint
# Quay's ENTRYPOINT starts with dumb-init (quay/quay Dockerfile, pip-installed there), and so does the
# metadata mirror-registry imports its quay.tar with: a stand-in that drops "--" and execs the rest.
printf '#!/bin/sh\n[ "${1:-}" = -- ] && shift\nexec "$@"\n' > "$R"/usr/bin/dumb-init
chmod 755 "$R"/usr/bin/dumb-init
