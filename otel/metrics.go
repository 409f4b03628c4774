package otelrpc

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"

	"polyconnect.dev/protocol/rpc"
)

// instruments are the metrics of one side (client or handler).
type instruments struct {
	// duration is rpc.client.call.duration or rpc.server.call.duration.
	duration metric.Float64Histogram
	// The opt-in message metrics (WithMessageMetrics); nil without it.
	requestSize, responseSize       metric.Int64Histogram
	requestsPerRPC, responsesPerRPC metric.Int64Histogram
	// sets caches the attribute sets of the measurements.
	sets *recordCache
}

// messageMetricNames are the names of the opt-in message metrics, from
// semantic conventions v1.37.0 (v1.43.0 no longer defines them).
type messageMetricNames struct {
	requestSize, responseSize, requestsPerRPC, responsesPerRPC string
}

var (
	clientMessageMetrics = messageMetricNames{
		"rpc.client.request.size", "rpc.client.response.size",
		"rpc.client.requests_per_rpc", "rpc.client.responses_per_rpc",
	}
	serverMessageMetrics = messageMetricNames{
		"rpc.server.request.size", "rpc.server.response.size",
		"rpc.server.requests_per_rpc", "rpc.server.responses_per_rpc",
	}
)

// newInstruments creates the instruments of one side. An instrument the
// meter cannot create is reported to the global error handler and replaced
// by a no-op, so that telemetry never breaks calls.
func newInstruments(m metric.Meter, client, messages bool) instruments {
	ins := instruments{sets: new(recordCache)}
	if client {
		d, err := rpcconv.NewClientCallDuration(m)
		handle(err)
		ins.duration = d.Inst()
	} else {
		d, err := rpcconv.NewServerCallDuration(m)
		handle(err)
		ins.duration = d.Inst()
	}
	if !messages {
		return ins
	}
	names := serverMessageMetrics
	if client {
		names = clientMessageMetrics
	}
	ins.requestSize = int64Histogram(m, names.requestSize, "By", "Measures the size of RPC request messages (uncompressed).")
	ins.responseSize = int64Histogram(m, names.responseSize, "By", "Measures the size of RPC response messages (uncompressed).")
	ins.requestsPerRPC = int64Histogram(m, names.requestsPerRPC, "{count}", "Measures the number of request messages per RPC.")
	ins.responsesPerRPC = int64Histogram(m, names.responsesPerRPC, "{count}", "Measures the number of response messages per RPC.")
	return ins
}

func int64Histogram(m metric.Meter, name, unit, description string) metric.Int64Histogram {
	h, err := m.Int64Histogram(name, metric.WithUnit(unit), metric.WithDescription(description))
	if err != nil {
		handle(err)
		return noop.Int64Histogram{}
	}
	return h
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// recordKey identifies the attributes of a duration measurement: the call's
// procedure, protocol and code, and the server's address on clients and on
// handlers with WithServerAddressMetrics (where it is the request's
// authority). Every attribute of the set must be in the key, or calls that
// differ in it would share the first call's set.
type recordKey struct {
	procedure string
	protocol  rpc.Protocol
	code      rpc.Code
	addr      string
}

// maxCachedSets bounds a recordCache. The attributes have low cardinality by
// design, so the bound is only a guard.
const maxCachedSets = 4096

// recordCache keeps the record option (an attribute set) of each attribute
// combination seen, so that recording a measurement allocates nothing once
// the combination is known. Reads are lock-free: the map is replaced, never
// changed, when an entry is added.
type recordCache struct {
	m  atomic.Pointer[map[recordKey]metric.RecordOption]
	mu sync.Mutex
}

// get returns the record option for k, building its attribute set from
// attrs (which it may reorder), less those filter refuses (nil: none), the
// first time.
func (c *recordCache) get(k recordKey, attrs []attribute.KeyValue, filter AttributeFilter) metric.RecordOption {
	if m := c.m.Load(); m != nil {
		if o, ok := (*m)[k]; ok {
			return o
		}
	}
	o := metric.WithAttributeSet(attribute.NewSet(filterWith(filter, attrs)...))
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil && len(*old) >= maxCachedSets {
		return o
	}
	m := make(map[recordKey]metric.RecordOption, 1+lenOf(old))
	if old != nil {
		for key, v := range *old {
			m[key] = v
		}
	}
	m[k] = o
	c.m.Store(&m)
	return o
}

func lenOf(m *map[recordKey]metric.RecordOption) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
