#!/bin/bash
# CPU time (task-clock) of a fixed number of server-side calls, base and new alternately.
out=$1; n=${N:-100000}; rounds=${ROUNDS:-6}
cd /tmp/restperf
for i in $(seq 1 $rounds); do
  for v in base new; do
    for b in GET POST Query; do
      ms=$(perf stat -x, -e task-clock ./transcode-$v.test -test.run '^$' -test.bench "ServeHTTP/$b\$" -test.benchtime ${n}x 2>&1 >/dev/null | awk -F, '/task-clock/{print $1}')
      echo "$i $v $b $ms $(uptime | sed 's/.*load average: //')" >> $out
    done
  done
done
