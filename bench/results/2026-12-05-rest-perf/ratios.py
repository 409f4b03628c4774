# Per-round rates (grpc-gateway time / polyconnect time) from interleaved runs:
# python3 ratios.py run3 run4
import re, statistics, sys
for v in ("base", "new"):
    for bench in ("REST/", "RESTParallel/"):
        wall, cpu = [], []
        for run in sys.argv[1:]:
            rows = {"polyconnect": [], "grpc-gateway": []}
            for line in open(f"{run}/raw-rest-{v}.txt"):
                if not line.startswith("Benchmark" + bench):
                    continue
                impl = re.search(r"impl=([^/]+)", line).group(1)
                f = line.split()
                ns = float(f[2])
                c = float(f[f.index("cpu-ns/op") - 1]) if "cpu-ns/op" in f else None
                rows[impl].append((ns, c))
            for (pn, pc), (gn, gc) in zip(rows["polyconnect"], rows["grpc-gateway"]):
                wall.append(gn / pn)
                if pc and gc:
                    cpu.append(gc / pc)
        def show(xs):
            return f"median {statistics.median(xs):.2f}, {min(xs):.2f}-{max(xs):.2f}, n={len(xs)}" if xs else "-"
        print(f"{v:4} {bench:14} wall: {show(wall)}   cpu: {show(cpu)}")
