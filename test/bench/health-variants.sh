#!/bin/bash
# Runs in the guest, as root, over an installed rootful mreg: for each healthcheck variant of the rendered
# Quadlet files (edited in /etc/containers/systemd only; mreg up rewrites them afterwards), stop the four units,
# `systemctl start quay-app` (what mreg's start waits for) and note when the start job ends vs when
# /health/instance first answers 200. Usage: health-variants.sh "VARIANT…" ROUNDS
#   base     the units as mreg renders them
#   startup  + HealthStartupCmd (= HealthCmd), HealthStartupInterval=1s, HealthStartupSuccess=1 on all three
#   startup2 the same with HealthStartupInterval=2s;  app-startup2: only on quay-app
#   app-nonotify  quay-app without Notify=healthy (its start job ends when the container runs; mreg polls health)
#   int2     HealthInterval=2s on all three
#   int1     HealthInterval=1s on all three
set -uo pipefail
D=/etc/containers/systemd
KEEP=/tmp/bench-pristine-units
URL=https://mreg-vm.example.test:8443/health/instance
CA=/etc/quay-install/quay-rootCA/rootCA.pem
now() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
rm -rf "$KEEP"; mkdir -p "$KEEP"; cp "$D"/quay-*.container "$KEEP"/

variant() {
  cp "$KEEP"/quay-*.container "$D"/
  case $1 in
    base) ;;
    startup) sed -i '/^HealthCmd=/{p;s/^HealthCmd=/HealthStartupCmd=/;a HealthStartupInterval=1s\nHealthStartupSuccess=1
}' "$D"/quay-*.container ;;
    startup2) sed -i '/^HealthCmd=/{p;s/^HealthCmd=/HealthStartupCmd=/;a HealthStartupInterval=2s\nHealthStartupSuccess=1
}' "$D"/quay-*.container ;;
    app-startup2) sed -i '/^HealthCmd=/{p;s/^HealthCmd=/HealthStartupCmd=/;a HealthStartupInterval=2s\nHealthStartupSuccess=1
}' "$D"/quay-app.container ;;
    app-nonotify) sed -i '/^Notify=healthy/d' "$D"/quay-app.container ;;
    int2) sed -i 's/^HealthInterval=.*/HealthInterval=2s/' "$D"/quay-*.container ;;
    int1) sed -i 's/^HealthInterval=.*/HealthInterval=1s/' "$D"/quay-*.container ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}

# active time of a unit relative to t0 (ms), from systemd's own clock
entered() { local us; us=$(systemctl show -p ActiveEnterTimestamp --value "$1"); echo $(( $(date -d "$us" +%s%3N) - $2 )); }

for v in $1; do
  jobs=() lags=()
  for _ in $(seq "${2:-1}"); do
    systemctl stop quay-app quay-redis quay-postgres quay-pod >/dev/null 2>&1
    variant "$v"; systemctl daemon-reload
    rm -f /tmp/bench-first200
    t0=$(now)
    ( while :; do [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert $CA $URL)" = 200 ] && { now >/tmp/bench-first200; break; }; sleep 0.1; done ) &
    pp=$!
    systemctl start quay-app; t1=$(now)
    wait $pp
    f=$(( $(cat /tmp/bench-first200) - t0 ))
    jobs+=($(( t1 - t0 ))); lags+=($(( t1 - t0 - f )))
    echo "detail $v: start job $(( t1 - t0 )) ms, first 200 at $f ms; postgres active at $(entered quay-postgres "$t0") ms, redis $(entered quay-redis "$t0") ms" >&2
  done
  echo "health $v: start job $(printf '%s\n' "${jobs[@]}" | median) ms, ended $(printf '%s\n' "${lags[@]}" | median) ms after the first 200 (runs: jobs ${jobs[*]}; lag ${lags[*]})"
done
cp "$KEEP"/quay-*.container "$D"/; systemctl daemon-reload
