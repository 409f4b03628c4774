#!/bin/sh
# Before/after, interleaved in one session: test binaries built from the
# commit before the change (caa0071 plus the new benchmark file) and after
# it, run in turn six times, 2000 iterations a run (the machine is shared:
# short runs).
set -e
D=${BIN:-/tmp/clientallocs}
: > rpc.before.txt; : > rpc.after.txt; : > bench.before.txt; : > bench.after.txt
for i in 1 2 3 4 5 6; do
	for v in before after; do
		(cd ../../../protocol/rpc && $D/$v/rpc.test -test.run '^$' -test.bench 'ClientInterceptorCost|UnaryClient' \
			-test.benchmem -test.benchtime 2000x -test.count 1) >> rpc.$v.txt
		(cd ../.. && $D/$v/bench.test -test.run '^$' -test.bench 'ClientAllocs|OtelNoopClient|OtelSDKClient/impl=polyconnect' \
			-test.benchmem -test.benchtime 2000x -test.count 1) >> bench.$v.txt
	done
done
