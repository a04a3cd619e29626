#!/bin/bash
# Stops what ceph-up.sh started: radosgw, ceph-osd, ceph-mon, in that order, with SIGTERM (the OSD then
# saves its memstore), SIGKILL after 30 s.
T0=$(date +%s.%N)
for p in radosgw ceph-osd ceph-mon; do
  pids=$(pgrep -x "$p" || true)
  [ "$p" = radosgw ] && pids=$(pgrep -f '^radosgw ' || true)   # main thread is renamed notif-worker0
  [ -z "$pids" ] && continue
  kill $pids
  for i in $(seq 1 300); do kill -0 $pids 2>/dev/null || break; sleep 0.1; done
  kill -0 $pids 2>/dev/null && { echo "$p still running, SIGKILL"; kill -9 $pids; }
  awk -v p="$p" -v n="$(date +%s.%N)" -v t="$T0" 'BEGIN { printf "stopped %-9s at %.2fs\n", p, n - t }'
done
