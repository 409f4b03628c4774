package transcode

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonDecoder reads request bodies into messages. For the common body (an
// object of known fields holding plain strings, integers, booleans, enum
// names, lists of those and nested messages of planned types) it sets the
// fields itself, as protojson would set them; at anything else (escapes in
// a string, floats, bytes, maps, null, an unknown or repeated field, a
// well-known type, malformed JSON) it gives up, and the caller decodes the
// whole body again with protojson, which sets what it sets or words the
// error. It never reports an error of its own.
type jsonDecoder struct {
	plans map[protoreflect.MessageDescriptor]*decodePlan
}

// decodePlan is how the decoder reads one message type.
type decodePlan struct {
	md     protoreflect.MessageDescriptor
	byName map[string]*decodeField // by JSON name, and by proto name unless a JSON name takes it
	fields []decodeField           // by field index
}

// decodeField is one field of a decodePlan.
type decodeField struct {
	fd    protoreflect.FieldDescriptor
	index int
	msg   *decodePlan // a message field's plan; nil if its type has none
}

// maxDecodeDepth is how deep the decoder follows nested messages before it
// leaves the body to protojson.
const maxDecodeDepth = 32

func newJSONDecoder(opts protojson.UnmarshalOptions) *jsonDecoder {
	d := &jsonDecoder{}
	if opts.RecursionLimit == 0 || opts.RecursionLimit >= maxDecodeDepth {
		d.plans = make(map[protoreflect.MessageDescriptor]*decodePlan)
	}
	return d
}

// plan returns md's plan, making it if need be; nil if protojson reads md.
// Plans are made while the handler is built and only read after.
func (d *jsonDecoder) plan(md protoreflect.MessageDescriptor) *decodePlan {
	if d.plans == nil || md == nil {
		return nil
	}
	if p, ok := d.plans[md]; ok {
		return p
	}
	if !plannable(md) {
		d.plans[md] = nil
		return nil
	}
	fields := md.Fields()
	p := &decodePlan{md: md, byName: make(map[string]*decodeField, 2*fields.Len()), fields: make([]decodeField, fields.Len())}
	d.plans[md] = p
	for i := range fields.Len() {
		fd := fields.Get(i)
		p.fields[i] = decodeField{fd: fd, index: i}
		if !fd.IsMap() {
			p.fields[i].msg = d.plan(fd.Message())
		}
	}
	// protojson looks a name up as a JSON name first, then as a proto name.
	for i := range p.fields {
		p.byName[p.fields[i].fd.TextName()] = &p.fields[i]
	}
	for i := range p.fields {
		p.byName[p.fields[i].fd.JSONName()] = &p.fields[i]
	}
	return p
}

// plannable reports whether the encoder and decoder handle md themselves:
// a proto3 message outside google.protobuf (whose well-known types have
// JSON forms of their own) without extensions.
func plannable(md protoreflect.MessageDescriptor) bool {
	return md.Syntax() == protoreflect.Proto3 && md.ExtensionRanges().Len() == 0 &&
		!strings.HasPrefix(string(md.FullName()), "google.protobuf.")
}

// decode sets m's fields from data, a whole JSON document, and reports
// whether it did; when it did not, m may be partly set and must be reset.
func (d *jsonDecoder) decode(data []byte, m protoreflect.Message, p *decodePlan) bool {
	if p == nil || p.md != m.Descriptor() {
		return false
	}
	s := jsonScanner{data: data}
	if !s.object(m, p, 0) {
		return false
	}
	s.space()
	return s.i == len(s.data)
}

// jsonScanner reads JSON from data at i.
type jsonScanner struct {
	data []byte
	i    int
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, or 0 at the end.
func (s *jsonScanner) next() byte {
	s.space()
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// object reads a JSON object into m.
func (s *jsonScanner) object(m protoreflect.Message, p *decodePlan, depth int) bool {
	if depth > maxDecodeDepth || s.next() != '{' {
		return false
	}
	s.i++
	var seenBuf [64]bool
	var seen []bool // by field index
	if len(p.fields) <= len(seenBuf) {
		seen = seenBuf[:len(p.fields)]
	} else {
		seen = make([]bool, len(p.fields))
	}
	var seenOneofs uint64 // by oneof index
	if s.next() == '}' {
		s.i++
		return true
	}
	for {
		name, ok := s.plainString()
		if !ok || s.next() != ':' {
			return false
		}
		s.i++
		f := p.byName[string(name)]
		if f == nil || seen[f.index] {
			return false // unknown (protojson skips or refuses it) or repeated (refused)
		}
		seen[f.index] = true
		if od := f.fd.ContainingOneof(); od != nil {
			bit := uint64(1) << od.Index()
			if od.Index() >= 64 || seenOneofs&bit != 0 {
				return false // a second field of a oneof: refused
			}
			seenOneofs |= bit
		}
		if !s.field(m, f, depth) {
			return false
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// field reads one field's value into m.
func (s *jsonScanner) field(m protoreflect.Message, f *decodeField, depth int) bool {
	fd := f.fd
	switch {
	case fd.IsMap():
		return false
	case fd.IsList():
		if s.next() != '[' {
			return false // null included
		}
		s.i++
		list := m.Mutable(fd).List()
		if s.next() == ']' {
			s.i++
			return true
		}
		for {
			var v protoreflect.Value
			if fd.Kind() == protoreflect.MessageKind {
				if f.msg == nil {
					return false
				}
				v = list.NewElement()
				if !s.object(v.Message(), f.msg, depth+1) {
					return false
				}
			} else {
				var ok bool
				if v, ok = s.scalar(fd); !ok {
					return false
				}
			}
			list.Append(v)
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case fd.Kind() == protoreflect.MessageKind:
		if f.msg == nil {
			return false
		}
		sub := m.NewField(fd)
		if !s.object(sub.Message(), f.msg, depth+1) {
			return false
		}
		m.Set(fd, sub)
		return true
	}
	v, ok := s.scalar(fd)
	if ok {
		m.Set(fd, v)
	}
	return ok
}

// scalar reads a value of one of the scalar kinds the decoder handles.
func (s *jsonScanner) scalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if s.next() != '"' {
			return protoreflect.Value{}, false
		}
		b, ok := s.plainString()
		return protoreflect.ValueOfString(string(b)), ok
	case protoreflect.BoolKind:
		switch s.next() {
		case 't':
			if s.literal("true") {
				return protoreflect.ValueOfBool(true), true
			}
		case 'f':
			if s.literal("false") {
				return protoreflect.ValueOfBool(false), true
			}
		}
		return protoreflect.Value{}, false
	case protoreflect.EnumKind:
		if s.next() != '"' || fd.Enum().FullName() == "google.protobuf.NullValue" {
			return protoreflect.Value{}, false // numbers and null left to protojson
		}
		name, ok := s.plainString()
		if !ok {
			return protoreflect.Value{}, false
		}
		vd := fd.Enum().Values().ByName(protoreflect.Name(name))
		if vd == nil {
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfEnum(vd.Number()), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, ok := s.integer(true, 32)
		return protoreflect.ValueOfInt32(int32(n)), ok
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, ok := s.integer(true, 64)
		return protoreflect.ValueOfInt64(n), ok
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok := s.integer(false, 32)
		return protoreflect.ValueOfUint32(uint32(n)), ok
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok := s.integer(false, 64)
		return protoreflect.ValueOfUint64(uint64(n)), ok
	}
	return protoreflect.Value{}, false // floats, bytes: left to protojson
}

// integer reads an integer written as plain digits, as a JSON number or in
// a JSON string, within bits (and not negative unless signed).
func (s *jsonScanner) integer(signed bool, bits int) (int64, bool) {
	digits, ok := s.digits()
	if !ok {
		return 0, false
	}
	if signed {
		n, err := strconv.ParseInt(string(digits), 10, bits)
		return n, err == nil
	}
	if len(digits) > 0 && digits[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(digits), 10, bits)
	return int64(n), err == nil
}

// digits reads an optional '-' and decimal digits, with no leading zero,
// alone or inside quotes, and returns them without the quotes.
func (s *jsonScanner) digits() ([]byte, bool) {
	quoted := s.next() == '"'
	if quoted {
		s.i++
	}
	start := s.i
	if s.i < len(s.data) && s.data[s.i] == '-' {
		s.i++
	}
	first := s.i
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
	}
	if s.i == first || (s.data[first] == '0' && s.i-first > 1) {
		return nil, false
	}
	out := s.data[start:s.i]
	if quoted {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return nil, false
		}
		s.i++
	} else if s.i < len(s.data) {
		switch s.data[s.i] {
		case '.', 'e', 'E':
			return nil, false // a fraction or an exponent: protojson's
		}
	}
	return out, true
}

func (s *jsonScanner) literal(word string) bool {
	if len(s.data)-s.i < len(word) || string(s.data[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// plainString reads a JSON string with no escapes and no control
// characters, in UTF-8, and returns its contents.
func (s *jsonScanner) plainString() ([]byte, bool) {
	if s.next() != '"' {
		return nil, false
	}
	s.i++
	start := s.i
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			out := s.data[start:s.i]
			s.i++
			return out, true
		case c == '\\' || c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.data[s.i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			s.i += n
		}
	}
	return nil, false
}
