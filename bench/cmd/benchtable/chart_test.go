package main

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgElement is what the chart test reads of each element: its name, its
// attributes and, for text, its characters.
type svgElement struct {
	name  string
	attrs map[string]string
	text  string
	group string // the data-transport and data-protocol of the enclosing group
}

// readSVG parses the chart as XML (so it is well-formed) into a flat list.
func readSVG(t *testing.T, svg string) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var (
		out   []svgElement
		group string
		open  []int // indexes in out of the open elements
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElement{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if e.name == "g" {
				group = e.attrs["data-protocol"] + "/" + e.attrs["data-transport"]
			}
			e.group = group
			out = append(out, e)
			open = append(open, len(out)-1)
		case xml.CharData:
			if len(open) > 0 {
				out[open[len(open)-1]].text += string(tok)
			}
		case xml.EndElement:
			open = open[:len(open)-1]
			if tok.Name.Local == "g" {
				group = ""
			}
		}
	}
	return out
}

func attrFloat(t *testing.T, e svgElement, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attrs[name], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", e.name, name, e.attrs[name], err)
	}
	return v
}

func TestChart(t *testing.T) {
	res := &results{data: make(map[string]map[key]sample), keys: make(map[string][]key)}
	if err := parse(strings.NewReader(input), res); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeChart(&b, res, chartOptions{scenario: "Unary"}); err != nil {
		t.Fatal(err)
	}
	elems := readSVG(t, b.String())

	// The bars: polyconnect and the peers it meets, a group per protocol
	// and transport, in the order the results came.
	type barInfo struct {
		impl     string
		rate     float64
		x, width float64
	}
	bars := map[string][]barInfo{}
	var order []string
	floors := map[string]float64{}
	var labels []string
	for _, e := range elems {
		switch {
		case e.name == "rect" && e.attrs["class"] == "bar":
			if _, ok := bars[e.group]; !ok {
				order = append(order, e.group)
			}
			bars[e.group] = append(bars[e.group], barInfo{e.attrs["data-impl"], attrFloat(t, e, "data-rate"), attrFloat(t, e, "x"), attrFloat(t, e, "width")})
		case e.name == "line" && e.attrs["class"] == "floor":
			if x1, x2 := attrFloat(t, e, "x1"), attrFloat(t, e, "x2"); x1 != x2 {
				t.Errorf("floor of %s is not vertical: x1 %v, x2 %v", e.group, x1, x2)
			}
			floors[e.group] = attrFloat(t, e, "x1")
		case e.name == "text":
			labels = append(labels, e.text)
		}
	}
	if want := []string{"connect/h2c", "grpc/h2c-rpc"}; strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("groups %q, want %q", order, want)
	}
	impls := func(g string) string {
		var s []string
		for _, b := range bars[g] {
			s = append(s, b.impl+"="+strconv.FormatFloat(b.rate, 'f', -1, 64))
		}
		return strings.Join(s, " ")
	}
	if got, want := impls("connect/h2c"), "polyconnect=20000 connect-go=10000"; got != want {
		t.Errorf("Connect over h2c: bars %s, want %s", got, want)
	}
	// grpc-go has no result on h2c-rpc: it is met on its own h2c.
	if got, want := impls("grpc/h2c-rpc"), "polyconnect=50000 grpc-go=40000"; got != want {
		t.Errorf("gRPC over h2c-rpc: bars %s, want %s", got, want)
	}

	// Lengths are proportional to the rates, from one origin; the longest
	// thing drawn (the h2c-rpc floor, 100,000) sets the scale.
	origin := bars["connect/h2c"][0].x
	perUnit := float64(chartWidth-labelWidth-valueRoom-2*chartPadding) / 100000
	for g, bs := range bars {
		for _, b := range bs {
			if b.x != origin || math.Abs(b.width-b.rate*perUnit) > 0.1 {
				t.Errorf("%s %s: x %v width %v, want x %v width %v", g, b.impl, b.x, b.width, origin, b.rate*perUnit)
			}
		}
	}
	for g, rate := range map[string]float64{"connect/h2c": 40000, "grpc/h2c-rpc": 100000} {
		if x, ok := floors[g]; !ok || math.Abs(x-(origin+rate*perUnit)) > 0.1 {
			t.Errorf("%s: floor at %v (drawn: %v), want %v", g, x, ok, origin+rate*perUnit)
		}
	}
	all := strings.Join(labels, "\n")
	for _, want := range []string{"Unary: req/s, higher is better", "Connect over h2c (net/http)", "gRPC over h2c-rpc (transport-h2)",
		"grpc-go (on h2c)", "20,000", "floor 100,000", "cpu: Test CPU", "medians over 2 runs"} {
		if !strings.Contains(all, want) {
			t.Errorf("no text %q in the chart; texts:\n%s", want, all)
		}
	}

	// Transports picked and ordered by the caller.
	b.Reset()
	if err := writeChart(&b, res, chartOptions{scenario: "Unary", transports: []string{"h2c-rpc"}, title: "Mine & yours"}); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if strings.Contains(svg, `data-transport="h2c"`) || !strings.Contains(svg, `data-transport="h2c-rpc"`) || !strings.Contains(svg, "Mine &amp; yours") {
		t.Errorf("-transports h2c-rpc with a title:\n%s", svg)
	}
	readSVG(t, svg)
}

func TestChartErrors(t *testing.T) {
	res := &results{data: make(map[string]map[key]sample), keys: make(map[string][]key)}
	if err := parse(strings.NewReader(input), res); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  chartOptions
		want string
	}{
		{chartOptions{scenario: "Nope"}, `no results for scenario "Nope" (have Unary, ServerAllocs)`},
		{chartOptions{scenario: "ServerAllocs"}, "has no rate"},
		{chartOptions{scenario: "Unary", transports: []string{"h3"}}, "no polyconnect results"},
	} {
		err := writeChart(io.Discard, res, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.opt, err, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 52342.4: "52,342", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}
