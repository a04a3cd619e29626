#!/bin/bash
# In-guest measuring helpers for test/bench/run.mjs: every clock is read inside the guest, so ssh's own
# latency (large and noisy under TCG) never enters a figure.
#   guest.sh time CMD            run CMD (a shell line) once; prints "ms N rc N"
#   guest.sh repeat N CMD        run CMD N times; prints "median N runs a,b,c failed N"
#   guest.sh up-timed CMD        run CMD with a 100 ms probe beside it; prints "ms N rc N first200 N"
#   guest.sh probe-start NAME MS start a /health/instance probe every MS ms in the background
#   guest.sh probe-stop NAME     stop it; prints "downtime N samples N codes 200:x,000:y"
set -uo pipefail
URL=${BENCH_URL:-https://mreg-vm.example.test:8443/health/instance}
CA=${BENCH_CA:-/etc/quay-install/quay-rootCA/rootCA.pem}
now() { date +%s%3N; }

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

case ${1:-} in
  time)
    t0=$(now); bash -c "$2" >/dev/null 2>/tmp/bench-last.err; rc=$?; echo "ms $(( $(now) - t0 )) rc $rc" ;;
  repeat)
    runs=()
    # failed: runs that exited non-zero (their stderr kept in /tmp/bench-last.err): a failing command is not measured.
    failed=0
    for _ in $(seq "$2"); do t0=$(now); bash -c "$3" >/dev/null 2>/tmp/bench-last.err || failed=$((failed + 1)); runs+=($(( $(now) - t0 ))); done
    echo "median $(printf '%s\n' "${runs[@]}" | median) runs $(IFS=,; echo "${runs[*]}") failed $failed" ;;
  up-timed)
    # first200: when the registry first answered 200, relative to the start (shows how long CMD waited after that)
    bash "$0" probe-start up 100 >/dev/null; t0=$(now)
    bash -c "$2" >/dev/null 2>/tmp/bench-last.err; rc=$?; t1=$(now)
    touch /tmp/bench-probe-up.stop; sleep 0.3
    f=$(awk '$2 == "200" {print $1; exit}' /tmp/bench-probe-up.log)
    echo "ms $(( t1 - t0 )) rc $rc first200 $([ -n "$f" ] && echo $(( f - t0 )) || echo -1)" ;;
  probe-start)
    log=/tmp/bench-probe-$2.log; stop=/tmp/bench-probe-$2.stop; rm -f "$log" "$stop"
    iv=$(awk -v m="$3" 'BEGIN{printf "%.3f", m/1000}')
    # one line per probe: the time it was sent and the HTTP code (000 = no answer within 5 s; a loaded TCG guest can
    # take several seconds to answer, which is slow, not down)
    setsid nohup bash -c "while [ ! -e $stop ]; do t=\$(date +%s%3N); c=\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert $CA $URL); echo \"\$t \$c\"; sleep $iv; done" \
      >"$log" 2>/dev/null </dev/null &
    echo "probe $2 started" ;;
  probe-stop)
    log=/tmp/bench-probe-$2.log; touch "/tmp/bench-probe-$2.stop"; sleep 2.5
    # downtime = longest stretch from the first failed probe to the next 200 (an unfinished outage counts to the end)
    awk '{n++; codes[$2]++; if ($2 != "200") { if (!down) down = $1; last = $1 } else if (down) { d = $1 - down; if (d > worst) worst = d; down = 0 } }
      END { if (down) { d = last - down; if (d > worst) worst = d }
            s = ""; for (c in codes) s = s (s ? "," : "") c ":" codes[c]; printf "downtime %d samples %d codes %s\n", worst, n, s }' "$log" ;;
  *) echo "usage: guest.sh time|repeat|probe-start|probe-stop ..." >&2; exit 2 ;;
esac
