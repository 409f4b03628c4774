package transcode

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldPath is a resolved dotted field path: every element but the last is a
// singular message field.
type fieldPath []protoreflect.FieldDescriptor

// String returns the path in proto names, such as "book.name".
func (p fieldPath) String() string {
	var b strings.Builder
	for i, fd := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(fd.Name()))
	}
	return b.String()
}

// resolveFieldPath resolves a dotted path of proto field names (as templates
// and body/response_body name them) in md.
func resolveFieldPath(md protoreflect.MessageDescriptor, path string) (fieldPath, error) {
	var out fieldPath
	for i, name := range strings.Split(path, ".") {
		if i > 0 {
			prev := out[i-1]
			if prev.Message() == nil || prev.IsList() || prev.IsMap() {
				return nil, fmt.Errorf("field path %q: %q is not a singular message field", path, prev.Name())
			}
			md = prev.Message()
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, fmt.Errorf("field path %q: %s has no field %q", path, md.FullName(), name)
		}
		out = append(out, fd)
	}
	return out, nil
}

// lookupField finds a field by its proto name or its JSON name, as query
// parameters may spell it either way.
func lookupField(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fields := md.Fields()
	if fd := fields.ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return fields.ByJSONName(name)
}

// mutableParent walks to the message holding the last field of path,
// creating the intermediate messages.
func mutableParent(m protoreflect.Message, path fieldPath) protoreflect.Message {
	for _, fd := range path[:len(path)-1] {
		m = m.Mutable(fd).Message()
	}
	return m
}

// checkBindable reports whether a field can take its value from a path
// variable or a query parameter: a scalar, an enum, a repeated one of those,
// or a message with a string form (timestamps, durations, wrappers, ...).
func checkBindable(fd protoreflect.FieldDescriptor) error {
	if fd.IsMap() {
		return fmt.Errorf("field %s is a map", fd.FullName())
	}
	if md := fd.Message(); md != nil && !isScalarMessage(md.FullName()) {
		return fmt.Errorf("field %s is a message (%s) with no string form", fd.FullName(), md.FullName())
	}
	return nil
}

// setFromString sets path in m from a textual value, as a path variable or a
// query parameter gives it. A repeated field gets the value appended; split
// says whether a repeated field takes a comma-separated list instead.
func setFromString(m protoreflect.Message, path fieldPath, value string, split bool) error {
	parent := mutableParent(m, path)
	fd := path[len(path)-1]
	if err := checkOneof(parent, fd); err != nil {
		return err
	}
	if fd.IsList() {
		list := parent.Mutable(fd).List()
		one := [1]string{value}
		parts := one[:]
		if split {
			parts = strings.Split(value, ",")
		}
		for _, part := range parts {
			v, err := parseValue(fd, part, list.NewElement)
			if err != nil {
				return err
			}
			list.Append(v)
		}
		return nil
	}
	v, err := parseValue(fd, value, func() protoreflect.Value { return parent.NewField(fd) })
	if err != nil {
		return err
	}
	parent.Set(fd, v)
	return nil
}

// checkOneof refuses to set a second field of a oneof.
func checkOneof(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	od := fd.ContainingOneof()
	if od == nil || od.IsSynthetic() {
		return nil
	}
	if set := m.WhichOneof(od); set != nil && set.Number() != fd.Number() {
		return fmt.Errorf("field %q and field %q are both in oneof %q", set.Name(), fd.Name(), od.Name())
	}
	return nil
}

// parseValue parses a textual value for a field (or a map key or value),
// following the proto3 JSON mapping's spellings. fresh returns an empty
// value of the field's type; it is called only for message fields.
func parseValue(fd protoreflect.FieldDescriptor, s string, fresh func() protoreflect.Value) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		switch s {
		case "true", "True", "TRUE", "1", "t", "T":
			return protoreflect.ValueOfBool(true), nil
		case "false", "False", "FALSE", "0", "f", "F":
			return protoreflect.ValueOfBool(false), nil
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not a bool", s)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not an int32", s)
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not an int64", s)
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a uint32", s)
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a uint64", s)
		}
		return protoreflect.ValueOfUint64(n), nil
	case protoreflect.FloatKind:
		f, err := parseFloat(s, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a float", s)
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, err := parseFloat(s, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a double", s)
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.BytesKind:
		b, err := parseBytes(s)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not base64", s)
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ev := ed.Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err == nil {
			if ev := ed.Values().ByNumber(protoreflect.EnumNumber(n)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), nil
			}
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not a value of enum %s", s, ed.FullName())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		v := fresh()
		if err := parseScalarMessage(v.Message(), s); err != nil {
			return protoreflect.Value{}, err
		}
		return v, nil
	}
	return protoreflect.Value{}, fmt.Errorf("field %s cannot be set from text", fd.FullName())
}

// parseFloat accepts decimal numbers and the JSON mapping's "NaN",
// "Infinity" and "-Infinity"; not Go's other spellings (hex, "inf", "1_0").
func parseFloat(s string, bits int) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if strings.ContainsAny(s, "xX_nNiI") {
		return 0, strconv.ErrSyntax
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, err
	}
	return f, nil
}

// parseBytes accepts standard or URL-safe base64, padded or not.
func parseBytes(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.DecodeString(s)
}

// isScalarMessage reports whether a message type has a textual form that a
// path variable or query parameter can carry.
func isScalarMessage(name protoreflect.FullName) bool {
	switch name {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
		"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
		"google.protobuf.Empty":
		return true
	}
	return false
}

// parseScalarMessage fills m, an empty well-known message, from its textual
// form.
func parseScalarMessage(m protoreflect.Message, s string) error {
	md := m.Descriptor()
	name := md.FullName()
	fields := md.Fields()
	switch name {
	case "google.protobuf.Timestamp":
		if err := protojson.Unmarshal([]byte(strconv.Quote(s)), m.Interface()); err != nil {
			return fmt.Errorf("%q is not an RFC 3339 timestamp", s)
		}
	case "google.protobuf.Duration":
		// The JSON mapping's "1.5s", or Go's "1m30s".
		if err := protojson.Unmarshal([]byte(strconv.Quote(s)), m.Interface()); err != nil {
			d, perr := time.ParseDuration(s)
			if perr != nil {
				return fmt.Errorf("%q is not a duration", s)
			}
			m.Set(fields.ByName("seconds"), protoreflect.ValueOfInt64(int64(d/time.Second)))
			m.Set(fields.ByName("nanos"), protoreflect.ValueOfInt32(int32(d%time.Second)))
		}
	case "google.protobuf.FieldMask":
		if s != "" {
			list := m.Mutable(fields.ByName("paths")).List()
			for p := range strings.SplitSeq(s, ",") {
				list.Append(protoreflect.ValueOfString(p))
			}
		}
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		if err := protojson.Unmarshal([]byte(s), m.Interface()); err != nil {
			return fmt.Errorf("%q is not JSON for %s", s, name)
		}
	case "google.protobuf.Empty":
		if s != "" && s != "{}" {
			return fmt.Errorf("%q is not an empty value", s)
		}
	default: // the wrappers
		vf := fields.ByName("value")
		if vf == nil || !isScalarMessage(name) {
			return fmt.Errorf("message %s has no string form", name)
		}
		v, err := parseValue(vf, s, nil)
		if err != nil {
			return err
		}
		m.Set(vf, v)
	}
	return nil
}
