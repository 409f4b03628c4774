package transcode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The JSON encoder is checked against protojson itself: every message the
// tests make is written by both, for each set of options, and the two
// documents must hold the same tokens in the same order (protojson's random
// spaces aside), or both must fail.

// jsonTestFiles builds, as dynamic descriptors, a proto3 file with a field
// of every kind (lists, maps with every key kind, oneofs, proto3 optional,
// a custom json_name, a recursive message, well-known types) and a proto2
// file the proto3 one refers to, which the encoder leaves to protojson.
func jsonTestFiles(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	req := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	field := func(name string, num int32, label *descriptorpb.FieldDescriptorProto_Label, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: label, Type: typ.Enum()}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	type T = descriptorpb.FieldDescriptorProto_Type
	scalars := []struct {
		name string
		typ  T
	}{
		{"f_double", descriptorpb.FieldDescriptorProto_TYPE_DOUBLE},
		{"f_float", descriptorpb.FieldDescriptorProto_TYPE_FLOAT},
		{"f_int64", descriptorpb.FieldDescriptorProto_TYPE_INT64},
		{"f_uint64", descriptorpb.FieldDescriptorProto_TYPE_UINT64},
		{"f_int32", descriptorpb.FieldDescriptorProto_TYPE_INT32},
		{"f_fixed64", descriptorpb.FieldDescriptorProto_TYPE_FIXED64},
		{"f_fixed32", descriptorpb.FieldDescriptorProto_TYPE_FIXED32},
		{"f_bool", descriptorpb.FieldDescriptorProto_TYPE_BOOL},
		{"f_string", descriptorpb.FieldDescriptorProto_TYPE_STRING},
		{"f_bytes", descriptorpb.FieldDescriptorProto_TYPE_BYTES},
		{"f_uint32", descriptorpb.FieldDescriptorProto_TYPE_UINT32},
		{"f_sfixed32", descriptorpb.FieldDescriptorProto_TYPE_SFIXED32},
		{"f_sfixed64", descriptorpb.FieldDescriptorProto_TYPE_SFIXED64},
		{"f_sint32", descriptorpb.FieldDescriptorProto_TYPE_SINT32},
		{"f_sint64", descriptorpb.FieldDescriptorProto_TYPE_SINT64},
	}
	msgT := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	enumT := descriptorpb.FieldDescriptorProto_TYPE_ENUM
	var all []*descriptorpb.FieldDescriptorProto
	n := int32(1)
	for _, s := range scalars {
		all = append(all, field(s.name, n, opt, s.typ, ""), field("r_"+s.name[2:], n+1, rep, s.typ, ""))
		n += 2
	}
	all = append(all,
		field("color", n, opt, enumT, ".jt.Color"),
		field("colors", n+1, rep, enumT, ".jt.Color"),
		field("child", n+2, opt, msgT, ".jt.All"),
		field("children", n+3, rep, msgT, ".jt.All"),
		field("when", n+4, opt, msgT, ".google.protobuf.Timestamp"),
		field("took", n+5, opt, msgT, ".google.protobuf.Duration"),
		field("meta", n+6, opt, msgT, ".google.protobuf.Struct"),
		field("any_value", n+7, opt, msgT, ".google.protobuf.Value"),
		field("maybe", n+8, opt, msgT, ".google.protobuf.Int64Value"),
		field("mask", n+9, opt, msgT, ".google.protobuf.FieldMask"),
		field("null", n+10, opt, enumT, ".google.protobuf.NullValue"),
		field("old", n+11, opt, msgT, ".jt2.Old"),
		field("olds", n+12, rep, msgT, ".jt2.Old"),
	)
	custom := field("custom_name", n+13, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")
	custom.JsonName = proto.String("my \"odd\" name")
	all = append(all, custom)
	optional := field("opt_int", n+14, opt, descriptorpb.FieldDescriptorProto_TYPE_INT32, "")
	optional.Proto3Optional = proto.Bool(true)
	optional.OneofIndex = proto.Int32(1)
	choiceA := field("choice_text", n+15, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")
	choiceA.OneofIndex = proto.Int32(0)
	choiceB := field("choice_child", n+16, opt, msgT, ".jt.All")
	choiceB.OneofIndex = proto.Int32(0)
	choiceC := field("choice_num", n+17, opt, descriptorpb.FieldDescriptorProto_TYPE_INT64, "")
	choiceC.OneofIndex = proto.Int32(0)
	all = append(all, choiceA, choiceB, choiceC, optional)
	n += 18
	var nested []*descriptorpb.DescriptorProto
	mapKinds := []struct {
		name string
		typ  T
	}{
		{"string", descriptorpb.FieldDescriptorProto_TYPE_STRING},
		{"int32", descriptorpb.FieldDescriptorProto_TYPE_INT32},
		{"int64", descriptorpb.FieldDescriptorProto_TYPE_INT64},
		{"uint32", descriptorpb.FieldDescriptorProto_TYPE_UINT32},
		{"uint64", descriptorpb.FieldDescriptorProto_TYPE_UINT64},
		{"sint64", descriptorpb.FieldDescriptorProto_TYPE_SINT64},
		{"fixed32", descriptorpb.FieldDescriptorProto_TYPE_FIXED32},
		{"sfixed64", descriptorpb.FieldDescriptorProto_TYPE_SFIXED64},
		{"bool", descriptorpb.FieldDescriptorProto_TYPE_BOOL},
	}
	for i, k := range mapKinds {
		entry := fmt.Sprintf("M%dEntry", i)
		valueType, valueName := descriptorpb.FieldDescriptorProto_TYPE_STRING, ""
		switch i % 3 {
		case 1:
			valueType, valueName = msgT, ".jt.All"
		case 2:
			valueType, valueName = enumT, ".jt.Color"
		}
		nested = append(nested, &descriptorpb.DescriptorProto{
			Name:    proto.String(entry),
			Field:   []*descriptorpb.FieldDescriptorProto{field("key", 1, opt, k.typ, ""), field("value", 2, opt, valueType, valueName)},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		})
		all = append(all, field(fmt.Sprintf("m%d", i), n, rep, msgT, ".jt.All."+entry))
		n++
	}
	p3 := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("jt.proto"),
		Package:    proto.String("jt"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"jt2.proto", "google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/struct.proto", "google/protobuf/wrappers.proto", "google/protobuf/field_mask.proto"},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Color"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)},
				{Name: proto.String("COLOR_RED"), Number: proto.Int32(1)},
				{Name: proto.String("COLOR_BLUE"), Number: proto.Int32(-2)},
			},
		}},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name:       proto.String("All"),
			Field:      all,
			NestedType: nested,
			OneofDecl:  []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}, {Name: proto.String("_opt_int")}},
		}},
	}
	p2 := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("jt2.proto"),
		Package: proto.String("jt2"),
		Syntax:  proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Old"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("a", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
				field("s", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("must", 3, req, descriptorpb.FieldDescriptorProto_TYPE_BOOL, ""),
			},
		}},
	}
	files := new(protoregistry.Files)
	for _, fd := range []protoreflect.FileDescriptor{
		timestamppb.File_google_protobuf_timestamp_proto, durationpb.File_google_protobuf_duration_proto,
		structpb.File_google_protobuf_struct_proto, wrapperspb.File_google_protobuf_wrappers_proto,
		fieldmaskpb.File_google_protobuf_field_mask_proto,
	} {
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	for _, fdp := range []*descriptorpb.FileDescriptorProto{p2, p3} {
		fd, err := protodesc.NewFile(fdp, files)
		if err != nil {
			t.Fatal(err)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	d, err := files.FindDescriptorByName("jt.All")
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

// filler makes random messages. Unless bad, they are ones protojson
// writes: required fields set, strings UTF-8, google.protobuf.Values with a
// kind; a bad one may break any of these, and both encoders must refuse it.
type filler struct {
	r   *rand.Rand
	bad bool
}

// fill sets about half of m's fields, at random, to values that include the
// edge cases of each kind.
func fill(g *filler, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if g.r.IntN(2) == 0 && (fd.Cardinality() != protoreflect.Required || g.bad) {
			continue // a required field is left unset rarely: protojson refuses the message
		}
		switch {
		case fd.IsList():
			list := m.Mutable(fd).List()
			for range g.r.IntN(3) {
				if v, ok := randomValue(g, fd, list.NewElement, depth); ok {
					list.Append(v)
				}
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for range g.r.IntN(4) {
				k, _ := randomValue(g, fd.MapKey(), nil, depth)
				if v, ok := randomValue(g, fd.MapValue(), mp.NewValue, depth); ok {
					mp.Set(k.MapKey(), v)
				}
			}
		default:
			if v, ok := randomValue(g, fd, func() protoreflect.Value { return m.NewField(fd) }, depth); ok {
				m.Set(fd, v)
			}
		}
	}
}

var (
	jsonTestStrings = []string{"", "plain", "quote \" and \\ back", "tab\tnew\nline\r\b\f", "\x00\x01\x1f\x7f", "<html> & 'x'", "ünïcødé ✓ \u2028\u2029", "\ufffd", "emoji 😀"}
	jsonTestFloats  = []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1e-6, 123456789, 1e20, 1e21, 1e300, math.SmallestNonzeroFloat64, math.MaxFloat32, math.Inf(1), math.Inf(-1), math.NaN(), 3.14159}
)

func randomValue(g *filler, fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value, depth int) (protoreflect.Value, bool) {
	ints := []int64{0, 1, -1, 42, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(g.r.IntN(2) == 0), true
	case protoreflect.StringKind:
		s := jsonTestStrings[g.r.IntN(len(jsonTestStrings))]
		if g.bad && g.r.IntN(10) == 0 {
			s = "not UTF-8: \xff" // protojson refuses it; so must the encoder
		}
		if fd.Number() == 1 && fd.ContainingMessage().IsMapEntry() || g.r.IntN(8) == 0 {
			s = fmt.Sprintf("%s%d", s, g.r.IntN(100))
		}
		return protoreflect.ValueOfString(s), true
	case protoreflect.BytesKind:
		b := make([]byte, g.r.IntN(6))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return protoreflect.ValueOfBytes(b), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(ints[g.r.IntN(6)]) + int32(g.r.IntN(3))), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(ints[g.r.IntN(len(ints))] - int64(g.r.IntN(2))), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32([]uint32{0, 1, 7, math.MaxUint32}[g.r.IntN(4)]), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64([]uint64{0, 1, 9, math.MaxUint64}[g.r.IntN(4)]), true
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(jsonTestFloats[g.r.IntN(len(jsonTestFloats))])), true
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(jsonTestFloats[g.r.IntN(len(jsonTestFloats))]), true
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum([]protoreflect.EnumNumber{0, 1, -2, 7}[g.r.IntN(4)]), true
	case protoreflect.MessageKind:
		v := newMsg()
		m := v.Message()
		switch m.Descriptor().FullName() {
		case "google.protobuf.Timestamp":
			proto.Merge(m.Interface(), timestamppb.New(time.Date(2024, 5, 6, 7, 8, 9, g.r.IntN(3)*1000, time.UTC).Add(-time.Duration(g.r.IntN(1e6))*time.Second)))
		case "google.protobuf.Duration":
			proto.Merge(m.Interface(), durationpb.New(time.Duration(g.r.IntN(1000)-500)*time.Millisecond))
		case "google.protobuf.Struct":
			s, _ := structpb.NewStruct(map[string]any{"a": 1.5, "b": []any{"x", true, nil}, "c": map[string]any{"d": "e"}})
			proto.Merge(m.Interface(), s)
		case "google.protobuf.Value":
			if !g.bad || g.r.IntN(2) == 0 { // otherwise a Value with no kind, which protojson refuses
				proto.Merge(m.Interface(), structpb.NewStringValue(jsonTestStrings[g.r.IntN(len(jsonTestStrings))]))
			}
		case "google.protobuf.Int64Value":
			proto.Merge(m.Interface(), wrapperspb.Int64(ints[g.r.IntN(len(ints))]))
		case "google.protobuf.FieldMask":
			proto.Merge(m.Interface(), &fieldmaskpb.FieldMask{Paths: []string{"a.b", "c"}})
		default:
			if depth >= 2 {
				return protoreflect.Value{}, false
			}
			fill(g, m, depth+1)
		}
		return v, true
	}
	return protoreflect.Value{}, false
}

var jsonTestOptions = []protojson.MarshalOptions{
	{EmitUnpopulated: true},
	{},
	{EmitDefaultValues: true},
	{UseProtoNames: true, UseEnumNumbers: true},
	{EmitUnpopulated: true, UseProtoNames: true, AllowPartial: true},
	{Multiline: true, EmitUnpopulated: true}, // left to protojson whole
}

// checkSameJSON marshals m with protojson and with the encoder (through
// the handler's path, falling back as it does) and compares the results.
func checkSameJSON(t *testing.T, enc *jsonEncoder, p *messagePlan, m protoreflect.Message) {
	t.Helper()
	want, wantErr := enc.opts.Marshal(m.Interface())
	h := &Handler{marshal: enc.opts, json: enc}
	got, gotErr := h.marshalAppend([]byte("prefix"), m, p)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("options %+v: protojson error %v, encoder error %v\nprotojson: %s\nencoder:   %s", enc.opts, wantErr, gotErr, want, got)
	}
	if wantErr != nil {
		if wantErr.Error() != gotErr.Error() {
			t.Fatalf("options %+v: protojson error %q, encoder error %q", enc.opts, wantErr, gotErr)
		}
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatalf("the encoder overwrote what it appends to: %q", got)
	}
	got = got[len("prefix"):]
	if err := sameTokens(want, got); err != nil {
		t.Fatalf("options %+v: %v\nprotojson: %s\nencoder:   %s", enc.opts, err, want, got)
	}
	if enc.plans != nil && !enc.opts.Multiline && bytes.Contains(got, []byte(", ")) && !bytes.Contains(want, []byte(", ")) {
		t.Fatalf("the encoder wrote a space protojson did not:\n%s\n%s", want, got)
	}
}

// sameTokens reports how two JSON documents differ, token by token, numbers
// compared as written.
func sameTokens(a, b []byte) error {
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	for i := 0; ; i++ {
		ta, ea := da.Token()
		tb, eb := db.Token()
		if errors.Is(ea, io.EOF) && errors.Is(eb, io.EOF) {
			return nil
		}
		if ea != nil || eb != nil {
			return fmt.Errorf("token %d: errors %v and %v", i, ea, eb)
		}
		if ta != tb {
			return fmt.Errorf("token %d: %#v and %#v", i, ta, tb)
		}
	}
}

func TestJSONEncoderMatchesProtojson(t *testing.T) {
	t.Parallel()
	md := jsonTestFiles(t)
	g := &filler{r: rand.New(rand.NewPCG(1, 2))}
	for _, opts := range jsonTestOptions {
		enc := newJSONEncoder(opts)
		p := enc.plan(md)
		if (p == nil) != (opts.Multiline) {
			t.Fatalf("options %+v: plan %v", opts, p)
		}
		checkSameJSON(t, enc, p, dynamicpb.NewMessage(md)) // every field unset
		// Large messages, nested twice: 480 documents in all.
		for range 80 {
			m := dynamicpb.NewMessage(md)
			g.bad = g.r.IntN(10) == 0
			fill(g, m, 0)
			checkSameJSON(t, enc, p, m)
		}
	}
}

// TestJSONEncoderPlans checks which messages get a plan: proto3 ones
// outside google.protobuf, with their fields in declaration order.
func TestJSONEncoderPlans(t *testing.T) {
	t.Parallel()
	md := jsonTestFiles(t)
	enc := newJSONEncoder(protojson.MarshalOptions{EmitUnpopulated: true})
	p := enc.plan(md)
	if p == nil || len(p.fields) != md.Fields().Len() {
		t.Fatalf("plan %v for %s", p, md.FullName())
	}
	for i, f := range p.fields {
		if f.fd.Index() != i {
			t.Errorf("field %d is %s", i, f.fd.Name())
		}
		target := f.fd.Message()
		if f.fd.IsMap() {
			target = f.fd.MapValue().Message()
		}
		if want := target != nil && target.FullName() == "jt.All"; (f.msg != nil) != want {
			t.Errorf("field %s: has a plan: %v, want %v", f.fd.Name(), f.msg != nil, want)
		}
		if f.fd.Name() == "custom_name" && string(f.name) != `"my \"odd\" name":` {
			t.Errorf("custom_name written as %s", f.name)
		}
	}
	for _, field := range []protoreflect.Name{"when", "meta", "old"} {
		if got := enc.plan(md.Fields().ByName(field).Message()); got != nil {
			t.Errorf("field %s: %s has a plan", field, md.Fields().ByName(field).Message().FullName())
		}
	}
}

// FuzzJSONEncoder decodes the input as a message of the test type (any
// valid wire data) and checks the encoder against protojson on it.
func FuzzJSONEncoder(f *testing.F) {
	md := jsonTestFiles(f)
	g := &filler{r: rand.New(rand.NewPCG(3, 4))}
	for seeds := 0; seeds < 20; {
		m := dynamicpb.NewMessage(md)
		g.bad = seeds%5 == 0
		fill(g, m, 0)
		if b, err := (proto.MarshalOptions{AllowPartial: true}).Marshal(m); err == nil { // not if a string is not UTF-8
			f.Add(b)
			seeds++
		}
	}
	var encs []*jsonEncoder
	var plans []*messagePlan
	for _, opts := range jsonTestOptions {
		enc := newJSONEncoder(opts)
		encs = append(encs, enc)
		plans = append(plans, enc.plan(md))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, ok := decodeFuzzInput(md, data)
		if !ok {
			return
		}
		for i, enc := range encs {
			checkSameJSON(t, enc, plans[i], m)
		}
	})
}

// decodeFuzzInput decodes data as a dynamic message of type md. Some
// malformed map entries make protobuf-go's dynamic decoder panic instead of
// failing (testdata/fuzz/FuzzJSONEncoder/b22ff26629a7728b); such inputs
// are skipped like those it refuses, as they say nothing about the encoder.
func decodeFuzzInput(md protoreflect.MessageDescriptor, data []byte) (m *dynamicpb.Message, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	m = dynamicpb.NewMessage(md)
	err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(data, m)
	return m, err == nil
}
