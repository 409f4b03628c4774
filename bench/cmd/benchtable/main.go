// Command benchtable reads `go test -bench` output of the bench suite and
// writes a markdown table that compares polyconnect with each peer, scenario
// by scenario: the median of every metric over the runs, and the ratio
// polyconnect ÷ peer.
//
//	benchtable results/2026-01-02/raw.txt > results/2026-01-02/table.md
//	benchtable -chart results/2026-01-02/chart.svg results/2026-01-02/raw.txt
//
// With -chart it draws one scenario (-scenario, UnaryParallel by default) as
// an SVG bar chart instead: requests (or messages) per second per stack, a
// group per protocol and transport, with the floor of a bare handler on the
// same transport (chart.go).
//
// Benchmarks are matched by name: Benchmark<Scenario>/impl=…/protocol=…
// [/transport=…]. polyconnect is compared with connect-go and grpc-go on the
// same protocol and transport, and with raw (protocol none) on the same
// transport using its Connect results.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const poly = "polyconnect"

// peers in the order the table lists them.
var peers = []string{"connect-go", "grpc-go", "raw", "grpc-gateway"}

// key identifies one benchmark apart from its implementation.
type key struct {
	scenario, protocol, transport string
}

// sample is the values of every run of one benchmark, by unit.
type sample map[string][]float64

type results struct {
	data      map[string]map[key]sample // impl → key → values
	scenarios []string                  // in order of appearance
	keys      map[string][]key          // scenario → keys in order of appearance
	env       []string                  // goos, goarch, cpu… header lines, once each
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines; it ignores everything else.
func parse(r io.Reader, res *results) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "Benchmark") && !strings.Contains(k, " ") {
			if env := k + ": " + v; k != "pkg" && !slices.Contains(res.env, env) {
				res.env = append(res.env, env)
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		parts := strings.Split(name, "/")
		k := key{scenario: strings.TrimPrefix(parts[0], "Benchmark")}
		impl := ""
		for _, p := range parts[1:] {
			n, v, _ := strings.Cut(p, "=")
			switch n {
			case "impl":
				impl = v
			case "protocol":
				k.protocol = v
			case "transport":
				k.transport = v
			}
		}
		if impl == "" {
			continue
		}
		if res.data[impl] == nil {
			res.data[impl] = make(map[key]sample)
		}
		s := res.data[impl][k]
		if s == nil {
			s = make(sample)
			res.data[impl][k] = s
			if !slices.Contains(res.scenarios, k.scenario) {
				res.scenarios = append(res.scenarios, k.scenario)
			}
			if !slices.Contains(res.keys[k.scenario], k) {
				res.keys[k.scenario] = append(res.keys[k.scenario], k)
			}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			s[fields[i+1]] = append(s[fields[i+1]], v)
		}
	}
	return sc.Err()
}

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// peerKey is the key of peer's benchmark that polyconnect's k is compared
// with, and whether the peer has one of that kind at all.
func peerKey(peer string, k key) (key, bool) {
	if (peer == "grpc-gateway") != (k.protocol == "rest") {
		// REST calls (the transcoder) meet grpc-gateway only, and it meets
		// nothing else.
		return key{}, false
	}
	switch peer {
	case "raw":
		if k.protocol != "connect" {
			return key{}, false
		}
		k.protocol = "none"
	case "grpc-go":
		if k.protocol != "grpc" {
			return key{}, false
		}
	}
	if peer != "raw" {
		// The peers cannot run on transport-h2's engine: polyconnect on
		// h2c-rpc and h2-rpc meets them on h2c and h2, their own HTTP/2.
		switch k.transport {
		case "h2c-rpc":
			k.transport = "h2c"
		case "h2-rpc":
			k.transport = "h2"
		}
	}
	return k, true
}

// h2Engine reports whether a transport is one of transport-h2's.
func h2Engine(transport string) bool { return strings.HasSuffix(transport, "-rpc") }

// rateUnit returns the throughput unit of a scenario's results, if any.
func rateUnit(s sample) string {
	for _, u := range []string{"req/s", "msgs/s"} {
		if _, ok := s[u]; ok {
			return u
		}
	}
	return ""
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchtable [raw.txt ...] > table.md\n       benchtable -chart chart.svg [-scenario S] [-transports LIST] [raw.txt ...]\n\nReads go test -bench output (standard input if no file) and writes a markdown\ncomparison of polyconnect with connect-go, grpc-go and raw, or with -chart an SVG\nbar chart of one scenario's rate per stack, protocol and transport, with the floor.\n\n")
		flag.PrintDefaults()
	}
	chart := flag.String("chart", "", "write an SVG bar chart to `FILE` instead of the markdown table")
	scenario := flag.String("scenario", "UnaryParallel", "with -chart, the `SCENARIO` to draw")
	transports := flag.String("transports", "", "with -chart, polyconnect's transports to show, comma-separated, in order (default: all)")
	title := flag.String("title", "", "with -chart, the chart's title (default: the scenario and its unit)")
	flag.Parse()
	res := &results{data: make(map[string]map[key]sample), keys: make(map[string][]key)}
	if flag.NArg() == 0 {
		if err := parse(os.Stdin, res); err != nil {
			fatal(err)
		}
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fatal(err)
		}
		err = parse(f, res)
		_ = f.Close()
		if err != nil {
			fatal(err)
		}
	}
	if len(res.data[poly]) == 0 {
		fatal(fmt.Errorf("no polyconnect results in the input"))
	}
	if *chart != "" {
		opt := chartOptions{scenario: *scenario, title: *title}
		if *transports != "" {
			opt.transports = strings.Split(*transports, ",")
		}
		var b strings.Builder
		if err := writeChart(&b, res, opt); err != nil {
			fatal(err)
		}
		if err := os.WriteFile(*chart, []byte(b.String()), 0o644); err != nil {
			fatal(err)
		}
		return
	}
	write(os.Stdout, res)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}

// row is one comparison of polyconnect with a peer.
type row struct {
	k, pk      key
	peer       string
	unit       string // rate unit, or ""
	polyRate   float64
	peerRate   float64
	polyNs     float64
	peerNs     float64
	polyAllocs float64
	peerAllocs float64
	polyBytes  float64
	peerBytes  float64
	runs       [2]int
}

func (r row) rateRatio() float64 { return ratio(r.polyRate, r.peerRate) }

func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

func build(res *results, scenario, peer string) []row {
	var rows []row
	for _, k := range res.keys[scenario] {
		ps, ok := res.data[poly][k]
		if !ok {
			continue
		}
		pk, ok := peerKey(peer, k)
		if !ok {
			continue
		}
		qs, ok := res.data[peer][pk]
		if !ok {
			continue
		}
		r := row{k: k, pk: pk, peer: peer, unit: rateUnit(ps)}
		get := func(s sample, unit string) float64 {
			v, ok := median(s[unit])
			if !ok {
				return math.NaN()
			}
			return v
		}
		if r.unit != "" {
			r.polyRate, r.peerRate = get(ps, r.unit), get(qs, r.unit)
		}
		r.polyNs, r.peerNs = get(ps, "ns/op"), get(qs, "ns/op")
		r.polyAllocs, r.peerAllocs = get(ps, "allocs/op"), get(qs, "allocs/op")
		r.polyBytes, r.peerBytes = get(ps, "B/op"), get(qs, "B/op")
		r.runs = [2]int{len(ps["ns/op"]), len(qs["ns/op"])}
		rows = append(rows, r)
	}
	return rows
}

func geomean(vs []float64) float64 {
	sum, n := 0.0, 0
	for _, v := range vs {
		if v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum += math.Log(v)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(sum / float64(n))
}

func write(w io.Writer, res *results) {
	fmt.Fprintln(w, "# polyconnect vs peers")
	fmt.Fprintln(w)
	if len(res.env) > 0 {
		fmt.Fprintln(w, "```")
		for _, e := range res.env {
			fmt.Fprintln(w, e)
		}
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Every number is the median over the runs. Ratios are polyconnect ÷ peer:")
	fmt.Fprintln(w, "**rate** (req/s or msgs/s) above 1 means polyconnect is faster; **time** (ns/op),")
	fmt.Fprintln(w, "**allocs** (allocs/op) and **bytes** (B/op) below 1 mean polyconnect spends less.")
	fmt.Fprintln(w, "polyconnect is compared with connect-go on the same protocol and transport, with")
	fmt.Fprintln(w, "grpc-go on gRPC over the same transport, and with raw (no RPC protocol, the net/http")
	fmt.Fprintln(w, "floor) using its Connect results. Missing rows are combinations that were skipped or")
	fmt.Fprintln(w, "do not exist. End-to-end allocations count client and server together; ServerAllocs")
	fmt.Fprintln(w, "and ClientAllocs count one side each.")
	fmt.Fprintln(w)

	writeHeadline(w, res)
	writeSummary(w, res, "## Summary (geometric mean of the ratios over protocols and net/http transports)", false)
	writeSummary(w, res, "## Summary on transport-h2 (polyconnect on h2c-rpc and h2-rpc; the peers on h2c and h2, grpc-go on its own HTTP/2)", true)

	for _, sc := range res.scenarios {
		fmt.Fprintf(w, "## %s\n\n", sc)
		var all []row
		for _, p := range peers {
			all = append(all, build(res, sc, p)...)
		}
		if len(all) == 0 {
			fmt.Fprintln(w, "No comparison: polyconnect or the peers have no results here.")
			fmt.Fprintln(w)
			continue
		}
		unit := all[0].unit
		if unit != "" {
			fmt.Fprintf(w, "| protocol | transport | peer | polyconnect %s | peer %s | rate | time | allocs/op poly / peer | allocs | bytes |\n", unit, unit)
			fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
		} else {
			fmt.Fprintln(w, "| protocol | transport | peer | polyconnect ns/op | peer ns/op | time | allocs/op poly / peer | allocs | B/op poly / peer | bytes |")
			fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
		}
		for _, r := range all {
			tr := r.k.transport
			if tr == "" {
				tr = "—"
			} else if r.pk.transport != r.k.transport {
				tr += " (peer: " + r.pk.transport + ")"
			}
			if unit != "" {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n",
					r.k.protocol, tr, r.peer, fmtNum(r.polyRate), fmtNum(r.peerRate), fmtRatio(r.rateRatio()),
					fmtRatio(ratio(r.polyNs, r.peerNs)), fmtNum(r.polyAllocs), fmtNum(r.peerAllocs),
					fmtRatio(ratio(r.polyAllocs, r.peerAllocs)), fmtRatio(ratio(r.polyBytes, r.peerBytes)))
			} else {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s |\n",
					r.k.protocol, tr, r.peer, fmtNum(r.polyNs), fmtNum(r.peerNs), fmtRatio(ratio(r.polyNs, r.peerNs)),
					fmtNum(r.polyAllocs), fmtNum(r.peerAllocs), fmtRatio(ratio(r.polyAllocs, r.peerAllocs)),
					fmtNum(r.polyBytes), fmtNum(r.peerBytes), fmtRatio(ratio(r.polyBytes, r.peerBytes)))
			}
		}
		fmt.Fprintln(w)
		if missing := missingPoly(res, sc); len(missing) > 0 {
			fmt.Fprintf(w, "No polyconnect results (skipped or failed): %s.\n\n", strings.Join(missing, ", "))
		}
	}
}

// writeSummary writes the geometric mean of the ratios per scenario and
// peer, over the rows on transport-h2 (onH2) or on the other transports.
func writeSummary(w io.Writer, res *results, title string, onH2 bool) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w)
	fmt.Fprint(w, "| scenario |")
	for _, p := range peers {
		fmt.Fprintf(w, " vs %s: rate | time | allocs |", p)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "|---|")
	for range peers {
		fmt.Fprint(w, "---:|---:|---:|")
	}
	fmt.Fprintln(w)
	for _, sc := range res.scenarios {
		var line strings.Builder
		fmt.Fprintf(&line, "| %s |", sc)
		rows := 0
		for _, p := range peers {
			var rate, tm, al []float64
			for _, r := range build(res, sc, p) {
				if h2Engine(r.k.transport) != onH2 {
					continue
				}
				rows++
				rate = append(rate, r.rateRatio())
				tm = append(tm, ratio(r.polyNs, r.peerNs))
				al = append(al, ratio(r.polyAllocs, r.peerAllocs))
			}
			fmt.Fprintf(&line, " %s | %s | %s |", fmtRatio(geomean(rate)), fmtRatio(geomean(tm)), fmtRatio(geomean(al)))
		}
		if rows == 0 {
			continue // nothing measured here (in-process scenarios have no transport)
		}
		fmt.Fprintln(w, line.String())
	}
	fmt.Fprintln(w)
}

// headlines are the comparisons the project's README reports one by one,
// rather than folded into a mean: Connect over h2c and over HTTP/1.1
// against connect-go, gRPC against grpc-go, on net/http and on
// transport-h2.
var headlines = []struct {
	protocol, transport, peer string
}{
	{"connect", "h2c", "connect-go"},
	{"connect", "http1", "connect-go"},
	{"grpc", "h2c", "grpc-go"},
	{"connect", "h2c-rpc", "connect-go"},
	{"grpc", "h2c-rpc", "grpc-go"},
	{"grpcweb", "h2c-rpc", "connect-go"},
}

// writeHeadline writes the rate ratio of each headline comparison,
// scenario by scenario (the end-to-end scenarios: the in-process ones have
// no transport).
func writeHeadline(w io.Writer, res *results) {
	var scenarios []string
	for _, sc := range res.scenarios {
		for _, k := range res.keys[sc] {
			if rateUnit(res.data[poly][k]) != "" {
				scenarios = append(scenarios, sc)
				break
			}
		}
	}
	if len(scenarios) == 0 {
		return
	}
	fmt.Fprintln(w, "## Headline: each protocol and transport on its own row (rate ratio)")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| protocol | transport | peer |")
	for _, sc := range scenarios {
		fmt.Fprintf(w, " %s |", sc)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "|---|---|---|")
	for range scenarios {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, h := range headlines {
		var cells []string
		found := false
		for _, sc := range scenarios {
			cell := "—"
			for _, r := range build(res, sc, h.peer) {
				if r.k.protocol == h.protocol && r.k.transport == h.transport {
					cell, found = fmtRatio(r.rateRatio()), true
				}
			}
			cells = append(cells, cell)
		}
		if !found {
			continue
		}
		tr := h.transport
		if pk, _ := peerKey(h.peer, key{protocol: h.protocol, transport: h.transport}); pk.transport != h.transport {
			tr += " (peer: " + pk.transport + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", h.protocol, tr, h.peer, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
}

// missingPoly lists the peers' protocol/transport combinations of a
// scenario that polyconnect could have run but has no results for.
func missingPoly(res *results, scenario string) []string {
	var out []string
	seen := map[key]bool{}
	for _, p := range []string{"connect-go"} {
		for k := range res.data[p] {
			if k.scenario != scenario || seen[k] {
				continue
			}
			seen[k] = true
			if _, ok := res.data[poly][k]; !ok {
				name := k.protocol
				if k.transport != "" {
					name += "/" + k.transport
				}
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

// fmtNum prints a value with three significant digits and an SI suffix.
func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return sig(v/1e9) + "G"
	case a >= 1e6:
		return sig(v/1e6) + "M"
	case a >= 1e4:
		return sig(v/1e3) + "k"
	}
	return sig(v)
}

func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100 || a == math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
