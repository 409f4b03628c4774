package grpcwire

import (
	"net/http"
	"strings"
	"testing"
)

func TestAppendTrailerBlock(t *testing.T) {
	h := http.Header{
		"X-Multi":      {"a", "b"},
		"Grpc-Status":  {"0"},
		"Content-Type": {"not/allowed"},
		"x-lower":      {"kept as sent"},
		"Bad Name":     {"space in the name"},
		"Bad:Name":     {"colon in the name"},
		"":             {"no name"},
		"X-Inject":     {"ok\r\ngrpc-status: 0", "tab\tis fine", "nul\x00", "del\x7f", "fine"},
	}
	omit := func(k string) bool { return k == "Grpc-Status" || k == "Content-Type" }
	got := string(AppendTrailerBlock([]byte("prefix|"), h, omit))
	want := "prefix|" +
		"x-inject: tab\tis fine\r\nx-inject: fine\r\n" +
		"x-multi: a\r\nx-multi: b\r\n" +
		"x-lower: kept as sent\r\n"
	if got != want {
		t.Errorf("block\n%q\nwant\n%q", got, want)
	}
	// Without a filter only what would break the block is left out.
	got = string(AppendTrailerBlock(nil, http.Header{"Grpc-Status": {"0"}, "Bad Name": {"x"}}, nil))
	if got != "grpc-status: 0\r\n" {
		t.Errorf("no filter: %q", got)
	}
	// The filter sees canonical names.
	var seen []string
	AppendTrailerBlock(nil, http.Header{"x-a": {"1"}}, func(k string) bool { seen = append(seen, k); return false })
	if len(seen) != 1 || seen[0] != "X-A" {
		t.Errorf("filter saw %q", seen)
	}
	if got := AppendTrailerBlock([]byte("same"), nil, omit); string(got) != "same" {
		t.Errorf("empty header: %q", got)
	}
}

func TestAppendStatusLines(t *testing.T) {
	if got := string(AppendStatusLines(nil, "0", "", "")); got != "grpc-status: 0\r\n" {
		t.Errorf("OK: %q", got)
	}
	got := string(AppendStatusLines([]byte("x"), "3", "bad%0Aarg", "CAM"))
	if got != "xgrpc-status: 3\r\ngrpc-message: bad%0Aarg\r\ngrpc-status-details-bin: CAM\r\n" {
		t.Errorf("error: %q", got)
	}
}

func TestParseTrailers(t *testing.T) {
	block := AppendStatusLines(nil, "10", "stop%0Anow", "CAo")
	block = AppendTrailerBlock(block, http.Header{"X-Multi": {"a", "b"}, "X-One": {" padded "}}, nil)
	f, h, err := ParseTrailers(block)
	if err != nil {
		t.Fatal(err)
	}
	if f != (StatusFields{Status: "10", StatusCount: 1, Message: "stop%0Anow", HasMessage: true, Details: "CAo"}) {
		t.Errorf("fields %+v", f)
	}
	if len(h) != 2 || strings.Join(h["X-Multi"], ",") != "a,b" || h.Get("X-One") != "padded" {
		t.Errorf("metadata %v", h)
	}
	// Lenient about line endings, blank lines, spaces and case.
	f, h, err = ParseTrailers([]byte("a: 1\nb:2\r\n \t\r\nGRPC-Status: 0\r\nGrpc-Message:\r\n\r\n"))
	if err != nil || h.Get("A") != "1" || h.Get("B") != "2" || len(h) != 2 || f.Status != "0" || !f.HasMessage || f.Message != "" {
		t.Errorf("lenient parse: %+v %v %v", f, h, err)
	}
	// A bare status makes no header map.
	if f, h, err := ParseTrailers([]byte("grpc-status: 0\r\n")); h != nil || err != nil || f.Status != "0" || f.StatusCount != 1 {
		t.Errorf("bare status: %+v %v %v", f, h, err)
	}
	// Every grpc-status counts; the first of each entry wins.
	f, _, _ = ParseTrailers([]byte("grpc-status: 1\r\ngrpc-status: 2\r\ngrpc-message: a\r\ngrpc-message: b\r\ngrpc-status-details-bin: x\r\ngrpc-status-details-bin: y\r\n"))
	if f != (StatusFields{Status: "1", StatusCount: 2, Message: "a", HasMessage: true, Details: "x"}) {
		t.Errorf("repeated entries: %+v", f)
	}
	for bad, msg := range map[string]string{
		"nocolon\r\n":            `malformed gRPC-Web trailer line "nocolon"`,
		": novalue\r\n":          `malformed gRPC-Web trailer line ": novalue"`,
		"  : x\r\n":              `invalid gRPC-Web trailer line "  : x"`,
		"bad name: x\r\n":        `invalid gRPC-Web trailer line "bad name: x"`,
		"x: a\rb\r\n":            `invalid gRPC-Web trailer line "x: a\rb"`,
		"x: \x00\n":              `invalid gRPC-Web trailer line "x: \x00"`,
		strings.Repeat("y", 100): `malformed gRPC-Web trailer line "` + strings.Repeat("y", 64) + `"`,
	} {
		if _, _, err := ParseTrailers([]byte(bad)); err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %s", bad, err, msg)
		}
	}
}
