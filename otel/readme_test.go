package otelrpc_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// readmeRow is one row of the README's attribute table.
type readmeRow struct {
	keys                         []string
	clientSpan, serverSpan, metr string
}

// readmeAttributes parses the attribute table of README.md.
func readmeAttributes(t *testing.T) []readmeRow {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "| attribute | client span | server span | metrics |")
	if start < 0 {
		t.Fatal("README.md has no attribute table")
	}
	var rows []readmeRow
	key := regexp.MustCompile("`([a-z_.<>]+)`")
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Fatalf("README row with %d cells: %s", len(cells), line)
		}
		var r readmeRow
		for _, m := range key.FindAllStringSubmatch(cells[0], -1) {
			r.keys = append(r.keys, m[1])
		}
		r.clientSpan, r.serverSpan, r.metr = strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		if r.serverSpan == "same" {
			r.serverSpan = r.clientSpan
		}
		rows = append(rows, r)
	}
	return rows
}

// keySet returns the attribute keys, with metadata keys shown as the
// README writes them.
func keySet(kvs ...[]attribute.KeyValue) []string {
	seen := map[string]bool{}
	for _, list := range kvs {
		for _, kv := range list {
			k := string(kv.Key)
			for _, prefix := range []string{"rpc.request.metadata.", "rpc.response.metadata."} {
				if strings.HasPrefix(k, prefix) {
					k = prefix + "<key>"
				}
			}
			seen[k] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestReadmeAttributeTable checks the README's attribute table against
// what the SDK records: the keys on client and server spans and on the two
// duration metrics, with the options the table names turned on (and, for
// metrics, off), over calls that succeed and fail.
func TestReadmeAttributeTable(t *testing.T) {
	rows := readmeAttributes(t)
	for _, serverAddress := range []bool{false, true} {
		opts := []otelrpc.Option{otelrpc.WithRequestMetadata("X-Tenant"), otelrpc.WithResponseMetadata("X-Res")}
		if serverAddress {
			opts = append(opts, otelrpc.WithServerAddressMetrics())
		}
		tel := newTelemetry(t)
		otel := tel.interceptor(opts...)
		pr := newPair(t, rpc.WithHandlerInterceptors(otel))
		client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(otel))
		for _, req := range []string{"header", failWith(rpc.CodeInternal)} {
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Set("X-Tenant", "acme")
			_, _ = client.CallUnary(ctx, wrapperspb.String(req))
		}
		var clientSpans, serverSpans [][]attribute.KeyValue
		for _, s := range tel.spans() {
			if s.SpanKind == trace.SpanKindClient {
				clientSpans = append(clientSpans, s.Attributes)
			} else {
				serverSpans = append(serverSpans, s.Attributes)
			}
		}
		rm := tel.metrics(t)
		var clientPoints, serverPoints [][]attribute.KeyValue
		for _, p := range durationPoints(t, rm, "rpc.client.call.duration") {
			clientPoints = append(clientPoints, p.Attributes.ToSlice())
		}
		for _, p := range durationPoints(t, rm, "rpc.server.call.duration") {
			serverPoints = append(serverPoints, p.Attributes.ToSlice())
		}

		var wantClientSpan, wantServerSpan, wantClientMetric, wantServerMetric []string
		for _, r := range rows {
			if r.clientSpan != "—" {
				wantClientSpan = append(wantClientSpan, r.keys...)
			}
			if r.serverSpan != "—" {
				wantServerSpan = append(wantServerSpan, r.keys...)
			}
			switch {
			case r.metr == "never":
			case r.metr == "client and server":
				wantClientMetric = append(wantClientMetric, r.keys...)
				wantServerMetric = append(wantServerMetric, r.keys...)
			case r.metr == "client; server only with `WithServerAddressMetrics`":
				wantClientMetric = append(wantClientMetric, r.keys...)
				if serverAddress {
					wantServerMetric = append(wantServerMetric, r.keys...)
				}
			default:
				t.Fatalf("README metrics cell the test does not know: %q", r.metr)
			}
		}
		for _, c := range []struct {
			what string
			got  []string
			want []string
		}{
			{"client span", keySet(clientSpans...), wantClientSpan},
			{"server span", keySet(serverSpans...), wantServerSpan},
			{"rpc.client.call.duration", keySet(clientPoints...), wantClientMetric},
			{"rpc.server.call.duration", keySet(serverPoints...), wantServerMetric},
		} {
			slices.Sort(c.want)
			if !slices.Equal(c.got, c.want) {
				t.Errorf("WithServerAddressMetrics %v, %s: recorded %v, README says %v", serverAddress, c.what, c.got, c.want)
			}
		}
	}
}
