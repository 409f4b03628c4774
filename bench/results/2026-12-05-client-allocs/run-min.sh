#!/bin/sh
# The fastest of 20 runs (20,000 calls each) of the client-only rows,
# before and after in turn: on a loaded machine the minimum is the figure
# least disturbed by other processes.
set -e
D=${BIN:-/tmp/clientallocs}
: > min.before.txt; : > min.after.txt
for i in $(seq 20); do
	for v in before after; do
		(cd ../../../protocol/rpc && $D/$v/rpc.test -test.run '^$' -test.bench 'ClientInterceptorCost/memory/unary' \
			-test.benchmem -test.benchtime 20000x -test.count 1) >> min.$v.txt
		(cd ../.. && $D/$v/bench.test -test.run '^$' -test.bench 'OtelNoopClient/impl=polyconnect' \
			-test.benchmem -test.benchtime 20000x -test.count 1) >> min.$v.txt
	done
done
for v in before after; do
	echo "== $v: fastest ns/op of 20 runs"
	grep '^Benchmark' min.$v.txt | awk '{ if (!($1 in m) || $3 < m[$1]) m[$1] = $3 } END { for (k in m) print k, m[k] }' | sort
done
