package main

import (
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file draws the headline comparison as an SVG bar chart: for one
// scenario with a rate (req/s or msgs/s), a group per protocol and transport
// that polyconnect ran, with a bar for polyconnect and for each peer it is
// compared with there (the same pairing as the tables), and the floor, a bare
// handler on the same transport with no RPC protocol (impl=raw), as a dashed
// line across the group.

// chartOptions selects what the chart shows.
type chartOptions struct {
	scenario   string   // such as "UnaryParallel"
	transports []string // polyconnect's transports to show, in this order; nil: all, as they appear
	title      string   // "" for one made from the scenario
}

// bar is one stack's median rate in a group.
type bar struct {
	impl string
	key  key
	rate float64
	runs int
}

// group is the bars of one protocol and transport, and its floor.
type group struct {
	protocol, transport string
	bars                []bar
	floor               float64 // raw's median rate on the transport, or NaN
}

// chartGroups collects the groups of the chart from the results.
func chartGroups(res *results, opt chartOptions) ([]group, string, error) {
	keys := res.keys[opt.scenario]
	if len(keys) == 0 {
		return nil, "", fmt.Errorf("no results for scenario %q (have %s)", opt.scenario, strings.Join(res.scenarios, ", "))
	}
	var polyKeys []key
	for _, k := range keys {
		if _, ok := res.data[poly][k]; ok && k.protocol != "none" {
			polyKeys = append(polyKeys, k)
		}
	}
	if opt.transports != nil {
		var picked []key
		for _, tr := range opt.transports {
			for _, k := range polyKeys {
				if k.transport == tr {
					picked = append(picked, k)
				}
			}
		}
		polyKeys = picked
	}
	if len(polyKeys) == 0 {
		return nil, "", fmt.Errorf("no polyconnect results for scenario %q on the chosen transports", opt.scenario)
	}
	unit := rateUnit(res.data[poly][polyKeys[0]])
	if unit == "" {
		return nil, "", fmt.Errorf("scenario %q has no rate (req/s or msgs/s) to chart", opt.scenario)
	}
	rate := func(impl string, k key) (bar, bool) {
		s, ok := res.data[impl][k]
		if !ok {
			return bar{}, false
		}
		v, ok := median(s[unit])
		if !ok {
			return bar{}, false
		}
		return bar{impl: impl, key: k, rate: v, runs: len(s[unit])}, true
	}
	var groups []group
	for _, k := range polyKeys {
		g := group{protocol: k.protocol, transport: k.transport, floor: math.NaN()}
		if b, ok := rate(poly, k); ok {
			g.bars = append(g.bars, b)
		}
		for _, peer := range peers {
			if peer == "raw" {
				continue // the floor, drawn as a line
			}
			pk, ok := peerKey(peer, k)
			if !ok {
				continue
			}
			if b, ok := rate(peer, pk); ok {
				g.bars = append(g.bars, b)
			}
		}
		if b, ok := rate("raw", key{scenario: k.scenario, protocol: "none", transport: k.transport}); ok {
			g.floor = b.rate
		}
		if len(g.bars) > 0 {
			groups = append(groups, g)
		}
	}
	return groups, unit, nil
}

// Layout of the chart, in pixels.
const (
	chartWidth   = 880
	labelWidth   = 250 // the stack names, left of the bars
	valueRoom    = 90  // right of the longest bar, for its value
	barHeight    = 16
	barGap       = 4
	groupGap     = 14
	groupHeader  = 20 // the group's name above its bars
	chartTop     = 74 // title, subtitle and legend
	chartPadding = 12
)

// implColors are the bars' colours; the floor is grey.
var implColors = map[string]string{
	poly:           "#2b6cb0",
	"connect-go":   "#dd6b20",
	"grpc-go":      "#38a169",
	"grpc-gateway": "#805ad5",
}

// transportNames says what each transport is, for the group headers.
var transportNames = map[string]string{
	"http1":   "HTTP/1.1 (net/http)",
	"h2c":     "h2c (net/http)",
	"h2":      "h2, TLS (net/http)",
	"h2c-rpc": "h2c-rpc (transport-h2)",
	"h2-rpc":  "h2-rpc, TLS (transport-h2)",
	"h3":      "h3 (quic-go)",
}

var protocolNames = map[string]string{"connect": "Connect", "grpc": "gRPC", "grpcweb": "gRPC-Web", "rest": "REST"}

func nameOr(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// writeChart writes the SVG chart of opt.scenario.
func writeChart(w io.Writer, res *results, opt chartOptions) error {
	groups, unit, err := chartGroups(res, opt)
	if err != nil {
		return err
	}
	maxRate := 0.0
	runs := 0
	for _, g := range groups {
		for _, b := range g.bars {
			maxRate = max(maxRate, b.rate)
			runs = max(runs, b.runs)
		}
		if !math.IsNaN(g.floor) {
			maxRate = max(maxRate, g.floor)
		}
	}
	if maxRate <= 0 {
		return errors.New("every rate is zero")
	}
	plot := float64(chartWidth - labelWidth - valueRoom - 2*chartPadding)
	x := func(v float64) float64 { return float64(chartPadding+labelWidth) + v/maxRate*plot }

	height := chartTop
	for _, g := range groups {
		height += groupHeader + len(g.bars)*(barHeight+barGap) + groupGap
	}
	height += 40 // the footnote

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	title := opt.title
	if title == "" {
		title = opt.scenario + ": " + unit + ", higher is better"
	}
	p(`<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", chartPadding, esc(title))
	p(`<text x="%d" y="42" fill="#4a5568">medians over %d runs; the dashed line is the floor: a bare handler on the same transport, no RPC protocol</text>`+"\n", chartPadding, runs)
	// The legend.
	lx := chartPadding
	for _, impl := range append([]string{poly}, peers...) {
		color, ok := implColors[impl]
		if !ok || !chartHas(groups, impl) {
			continue
		}
		p(`<rect x="%d" y="52" width="12" height="12" fill="%s"/><text x="%d" y="62">%s</text>`+"\n", lx, color, lx+16, esc(impl))
		lx += 24 + 7*len(impl)
	}
	p(`<line x1="%d" y1="58" x2="%d" y2="58" stroke="#a0aec0" stroke-width="2" stroke-dasharray="4 3"/><text x="%d" y="62">floor</text>`+"\n", lx, lx+18, lx+22)

	y := chartTop
	for _, g := range groups {
		p(`<g class="group" data-protocol="%s" data-transport="%s">`+"\n", esc(g.protocol), esc(g.transport))
		p(`<text x="%d" y="%d" font-weight="bold">%s over %s</text>`+"\n", chartPadding, y+14, esc(nameOr(protocolNames, g.protocol)), esc(nameOr(transportNames, g.transport)))
		top := y + groupHeader
		bottom := top + len(g.bars)*(barHeight+barGap) - barGap
		if !math.IsNaN(g.floor) {
			// Behind the bars, so that it never hides one.
			fx := num(x(g.floor))
			p(`<line class="floor" data-rate="%s" x1="%s" y1="%d" x2="%s" y2="%d" stroke="#a0aec0" stroke-width="2" stroke-dasharray="4 3"><title>floor: %s %s</title></line>`+"\n",
				num(g.floor), fx, top-3, fx, bottom+3, thousands(g.floor), esc(unit))
			p(`<text x="%s" y="%d" fill="#718096" text-anchor="middle">floor %s</text>`+"\n", fx, top-6, thousands(g.floor))
		}
		y = top
		for _, br := range g.bars {
			label := br.impl
			if br.key.transport != g.transport {
				label += " (on " + br.key.transport + ")"
			}
			w := x(br.rate) - x(0)
			p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", chartPadding+labelWidth-6, y+12, esc(label))
			p(`<rect class="bar" data-impl="%s" data-rate="%s" x="%s" y="%d" width="%s" height="%d" fill="%s"/>`+"\n",
				esc(br.impl), num(br.rate), num(x(0)), y, num(w), barHeight, implColors[br.impl])
			// The value goes right of the bar, or right of the floor's line
			// where the line would cross it.
			tx := x(br.rate) + 4
			if fx := x(g.floor); !math.IsNaN(g.floor) && fx > tx-6 && fx < tx+50 {
				tx = fx + 5
			}
			p(`<text x="%s" y="%d">%s</text>`+"\n", num(tx), y+12, thousands(br.rate))
			y += barHeight + barGap
		}
		p("</g>\n")
		y += groupGap
	}
	var env []string
	for _, e := range res.env {
		if strings.HasPrefix(e, "cpu:") || strings.HasPrefix(e, "goos:") || strings.HasPrefix(e, "goarch:") {
			env = append(env, e)
		}
	}
	p(`<text x="%d" y="%d" fill="#4a5568">%s</text>`+"\n", chartPadding, y+16, esc(strings.Join(env, "  ")))
	p("</svg>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

func chartHas(groups []group, impl string) bool {
	for _, g := range groups {
		if slices.ContainsFunc(g.bars, func(b bar) bool { return b.impl == impl }) {
			return true
		}
	}
	return false
}

func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate with one decimal.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// thousands formats a rate as an integer with commas: 52,342.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
