package transcode

import (
	"cmp"
	"encoding/base64"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonEncoder writes response messages as JSON. It writes the documents
// protojson writes with the handler's MarshalOptions, the same fields in the
// same order with the same values, without protojson's per-message work
// (sorting the fields, formatting numbers through fmt): the response JSON is
// much of a transcoded call's cost. It does so for the messages it has a
// plan for, proto3 messages outside google.protobuf, made when the handler
// is built; any other message, such as a Timestamp field or a proto2
// message, is handed to protojson, and so is a whole response the encoder
// meets anything unusual in (a string that is not UTF-8, whose error
// protojson words). protojson's single-line output has random spaces after
// some commas, which no reader may depend on; this encoder writes none.
type jsonEncoder struct {
	opts  protojson.MarshalOptions
	plans map[protoreflect.MessageDescriptor]*messagePlan // nil when the options need protojson
	// emitZero and emitNull are protojson's EmitUnpopulated and
	// EmitDefaultValues: unset fields without presence appear with their
	// zero values; unset fields with presence (outside oneofs) as null.
	emitZero, emitNull bool
}

// messagePlan is how the encoder writes one message type: its fields in
// declaration order, as protojson orders them.
type messagePlan struct {
	md     protoreflect.MessageDescriptor
	fields []fieldPlan
}

// fieldPlan is one field of a messagePlan.
type fieldPlan struct {
	fd    protoreflect.FieldDescriptor
	name  []byte       // the quoted JSON name and the colon
	oneof bool         // in a oneof (a real one or proto3 optional's): written only when set
	msg   *messagePlan // the plan of a message field's (or map value's) type; nil for protojson
}

// newJSONEncoder returns the encoder for a handler's options.
func newJSONEncoder(opts protojson.MarshalOptions) *jsonEncoder {
	e := &jsonEncoder{opts: opts}
	if opts.Multiline || opts.Indent != "" {
		return e // protojson's layout: leave it all to protojson
	}
	e.plans = make(map[protoreflect.MessageDescriptor]*messagePlan)
	e.emitZero = opts.EmitUnpopulated || opts.EmitDefaultValues
	e.emitNull = opts.EmitUnpopulated
	return e
}

// plan returns the plan of md, making it (and those of the message types it
// refers to) if need be; nil if protojson writes md. Plans are made while
// the handler is built and only read after.
func (e *jsonEncoder) plan(md protoreflect.MessageDescriptor) *messagePlan {
	if e.plans == nil || md == nil {
		return nil
	}
	if p, ok := e.plans[md]; ok {
		return p
	}
	if !plannable(md) {
		e.plans[md] = nil
		return nil
	}
	p := &messagePlan{md: md}
	e.plans[md] = p // before the fields: a message may contain itself
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := fd.JSONName()
		if e.opts.UseProtoNames {
			name = fd.TextName()
		}
		quoted, ok := appendProtoJSONString(nil, name)
		if !ok {
			e.plans[md] = nil
			return nil
		}
		fp := fieldPlan{fd: fd, name: append(quoted, ':'), oneof: fd.ContainingOneof() != nil}
		switch {
		case fd.IsMap():
			fp.msg = e.plan(fd.MapValue().Message())
		default:
			fp.msg = e.plan(fd.Message())
		}
		p.fields = append(p.fields, fp)
	}
	return p
}

// appendMessage appends the JSON of m. ok is false when the encoder left
// something to protojson that protojson failed at, or met a value it does
// not write: the caller then marshals the whole message with protojson,
// which writes it or reports the error.
func (e *jsonEncoder) appendMessage(b []byte, m protoreflect.Message, p *messagePlan) ([]byte, bool) {
	if p == nil || p.md != m.Descriptor() {
		out, err := e.opts.MarshalAppend(b, m.Interface())
		return out, err == nil
	}
	b = append(b, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		var v protoreflect.Value
		empty := "null" // what an unset field is written as, when it is
		switch {
		case m.Has(f.fd):
			v = m.Get(f.fd)
		case f.oneof:
			continue
		case f.fd.HasPresence():
			if !e.emitNull {
				continue
			}
		case !e.emitZero:
			continue
		case f.fd.IsList():
			empty = "[]" // without the list's reflection wrapper
		case f.fd.IsMap():
			empty = "{}"
		default:
			v = m.Get(f.fd)
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.name...)
		var ok bool
		switch {
		case !v.IsValid():
			b, ok = append(b, empty...), true
		case f.fd.IsList():
			b, ok = e.appendList(b, v.List(), f)
		case f.fd.IsMap():
			b, ok = e.appendMap(b, v.Map(), f)
		default:
			b, ok = e.appendSingular(b, v, f.fd, f.msg)
		}
		if !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func (e *jsonEncoder) appendList(b []byte, list protoreflect.List, f *fieldPlan) ([]byte, bool) {
	b = append(b, '[')
	for i := range list.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = e.appendSingular(b, list.Get(i), f.fd, f.msg); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendMap writes a map with its keys sorted as protojson sorts them: false
// before true, numbers in ascending order, strings by their bytes.
func (e *jsonEncoder) appendMap(b []byte, mp protoreflect.Map, f *fieldPlan) ([]byte, bool) {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	kfd, vfd := f.fd.MapKey(), f.fd.MapValue()
	switch kfd.Kind() {
	case protoreflect.StringKind:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return strings.Compare(x.String(), y.String()) })
	case protoreflect.BoolKind:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int {
			switch {
			case x.Bool() == y.Bool():
				return 0
			case !x.Bool():
				return -1
			}
			return 1
		})
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Uint(), y.Uint()) })
	default:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Int(), y.Int()) })
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		switch kfd.Kind() {
		case protoreflect.StringKind:
			if b, ok = appendProtoJSONString(b, k.String()); !ok {
				return b, false
			}
		case protoreflect.BoolKind:
			b = append(b, '"')
			b = strconv.AppendBool(b, k.Bool())
			b = append(b, '"')
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			b = append(b, '"')
			b = strconv.AppendUint(b, k.Uint(), 10)
			b = append(b, '"')
		default:
			b = append(b, '"')
			b = strconv.AppendInt(b, k.Int(), 10)
			b = append(b, '"')
		}
		b = append(b, ':')
		if b, ok = e.appendSingular(b, mp.Get(k), vfd, f.msg); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendSingular writes one value of fd's kind: a field's, a list
// element's or a map value's.
func (e *jsonEncoder) appendSingular(b []byte, v protoreflect.Value, fd protoreflect.FieldDescriptor, msg *messagePlan) ([]byte, bool) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), true
	case protoreflect.StringKind:
		return appendProtoJSONString(b, v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b = append(b, '"')
		b = strconv.AppendInt(b, v.Int(), 10)
		return append(b, '"'), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = append(b, '"')
		b = strconv.AppendUint(b, v.Uint(), 10)
		return append(b, '"'), true
	case protoreflect.FloatKind:
		return appendProtoJSONFloat(b, v.Float(), 32), true
	case protoreflect.DoubleKind:
		return appendProtoJSONFloat(b, v.Float(), 64), true
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), true
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			return append(b, "null"...), true
		}
		n := v.Enum()
		if !e.opts.UseEnumNumbers {
			if vd := ed.Values().ByNumber(n); vd != nil {
				return appendProtoJSONString(b, string(vd.Name()))
			}
		}
		return strconv.AppendInt(b, int64(n), 10), true
	case protoreflect.MessageKind:
		return e.appendMessage(b, v.Message(), msg)
	}
	return b, false // groups are proto2's: not planned
}

// appendProtoJSONString appends s as protojson quotes it: only '"', '\\'
// and control characters escaped, the short forms where JSON has them. ok
// is false if s is not UTF-8, which protojson refuses.
func appendProtoJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return b, false
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u')
			b = append(b, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			b = strconv.AppendUint(b, uint64(c), 16)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), true
}

// appendProtoJSONFloat appends f as protojson writes it: NaN and the
// infinities as strings, other numbers in the shortest form, with an
// exponent only for very small or very large ones (as encoding/json does).
func appendProtoJSONFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bitSize)
	if format == 'e' {
		// e-07 becomes e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
