#!/bin/sh
# Time per call of the client-only rows, with 20000 iterations a run (the
# 2000x runs of run.sh are too short to time on the loaded machine), before
# and after in turn, six times.
set -e
D=${BIN:-/tmp/clientallocs}
: > time.before.txt; : > time.after.txt
for i in 1 2 3 4 5 6; do
	for v in before after; do
		(cd ../../../protocol/rpc && $D/$v/rpc.test -test.run '^$' -test.bench 'ClientInterceptorCost/memory' \
			-test.benchmem -test.benchtime 20000x -test.count 1) >> time.$v.txt
		(cd ../.. && $D/$v/bench.test -test.run '^$' -test.bench 'OtelNoopClient/impl=polyconnect' \
			-test.benchmem -test.benchtime 20000x -test.count 1) >> time.$v.txt
	done
done
