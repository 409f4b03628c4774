#!/bin/bash
# Alternates the bench test binaries built at main (base) and at restperf (new).
out=${OUT:-/work/wt/restperf/bench/results/2026-12-05-rest-perf}
cd /work/wt/restperf/bench   # the tests open no files, but run where the package lives
rounds=${ROUNDS:-6}
for i in $(seq 1 $rounds); do
  for v in base new; do
    echo "# round $i $v $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')" >> $out/load.txt
    /tmp/restperf/bench-$v.test -test.run '^$' -test.bench 'REST' -test.benchtime 2s -test.count 1 >> $out/raw-rest-$v.txt 2>&1
  done
done
echo "# done $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')" >> $out/load.txt
