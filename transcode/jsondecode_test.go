package transcode

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The JSON decoder is checked against protojson: whenever it takes a body,
// protojson must take it too and set the same fields; when it gives up,
// the handler asks protojson, so nothing is left to compare.

// checkDecode decodes data with the decoder and, when it takes the body,
// with protojson, and compares. It reports whether the decoder took it.
func checkDecode(t *testing.T, d *jsonDecoder, p *decodePlan, md protoreflect.MessageDescriptor, data string) bool {
	t.Helper()
	got := dynamicpb.NewMessage(md)
	if !d.decode([]byte(data), got, p) {
		return false
	}
	for _, discard := range []bool{true, false} {
		want := dynamicpb.NewMessage(md)
		if err := (protojson.UnmarshalOptions{DiscardUnknown: discard}).Unmarshal([]byte(data), want); err != nil {
			t.Fatalf("the decoder took %s, which protojson refuses: %v", data, err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("%s: the decoder set\n%v\nprotojson\n%v", data, got, want)
		}
	}
	return true
}

func TestJSONDecoderCases(t *testing.T) {
	t.Parallel()
	md := jsonTestFiles(t)
	d := newJSONDecoder(protojson.UnmarshalOptions{DiscardUnknown: true})
	p := d.plan(md)
	if p == nil {
		t.Fatal("no plan")
	}
	taken := []string{
		`{}`,
		` { } `,
		`{"fString":"plain ünïcødé ✓","fBool":true,"rBool":[false,true]}`,
		`{"f_string":"proto name","r_string":[]}`,
		"{\n\t\"fInt32\" : -2147483648 ,\r\n\"fSint32\":\"2147483647\"}",
		`{"fInt64":"-9223372036854775808","fUint64":"18446744073709551615","fFixed64":18446744073709551615,"fSfixed64":0}`,
		`{"fUint32":4294967295,"fFixed32":"0","rUint32":[1,"2",3]}`,
		`{"fInt32":-0}`,
		`{"color":"COLOR_BLUE","colors":["COLOR_RED","COLOR_UNSPECIFIED"]}`,
		`{"child":{"child":{"fString":"deep"}},"children":[{},{"fInt64":"7"}]}`,
		`{"choiceText":"one of"}`,
		`{"choiceChild":{"fBool":false}}`,
		`{"optInt":0}`,
		`{"fString":""}`,
		`{"custom_name":"proto name of a field with a json_name"}`,
	}
	for _, data := range taken {
		if !checkDecode(t, d, p, md, data) {
			t.Errorf("the decoder gave up on %s", data)
		}
	}
	givenUp := []string{
		``, `[]`, `{`, `{"fString":"x"`, `{"fString":"x"}x`, `{"fString":"x"},`, `{"fString":"x",}`,
		`{"fString":"esc\"aped"}`, `{"fString":"\u0041"}`, "{\"fString\":\"tab\there\"}", "{\"fString\":\"\xff\"}",
		`{"fString":1}`, `{"fBool":"true"}`, `{"fBool":1}`, `{"fString":null}`, `{"rString":null}`,
		`{"fInt32":2147483648}`, `{"fInt32":1.0}`, `{"fInt32":1e2}`, `{"fInt32":01}`, `{"fInt32":"01"}`,
		`{"fInt32":"-"}`, `{"fInt32":" 1"}`, `{"fInt32":+1}`, `{"fUint32":-1}`, `{"fUint64":"-1"}`,
		`{"fInt64":"9223372036854775808"}`, `{"fDouble":1}`, `{"fFloat":0}`, `{"fBytes":""}`,
		`{"color":1}`, `{"color":"COLOR_GREEN"}`, `{"null":null}`,
		`{"unknown":1}`, `{"fString":"a","fString":"b"}`, `{"fString":"a","f_string":"b"}`,
		`{"choiceText":"a","choiceNum":"1"}`, `{"m0":{}}`, `{"when":"2024-01-01T00:00:00Z"}`,
		`{"old":{}}`, `{"customName":"json name taken"}`,
		`{"fString" "x"}`, `{fString:"x"}`, `{"children":[{},]}`, `{"rInt32":[1 2]}`,
	}
	for _, data := range givenUp {
		if checkDecode(t, d, p, md, data) {
			t.Errorf("the decoder took %s", data)
		}
	}
	// Nesting beyond maxDecodeDepth is left to protojson.
	deep := ""
	for range maxDecodeDepth + 2 {
		deep += `{"child":`
	}
	deep += "{}"
	for range maxDecodeDepth + 2 {
		deep += "}"
	}
	if checkDecode(t, d, p, md, deep) {
		t.Error("the decoder took a body nested beyond its depth")
	}
}

// TestJSONDecoderMatchesProtojson decodes the JSON protojson writes for
// random messages of the kinds the decoder reads.
func TestJSONDecoderMatchesProtojson(t *testing.T) {
	t.Parallel()
	md := jsonTestFiles(t)
	d := newJSONDecoder(protojson.UnmarshalOptions{DiscardUnknown: true})
	p := d.plan(md)
	g := &filler{r: rand.New(rand.NewPCG(5, 6))}
	taken, total := 0, 0
	for _, opts := range []protojson.MarshalOptions{{}, {UseProtoNames: true}} {
		for range 200 {
			m := dynamicpb.NewMessage(md)
			fillDecodable(g, m, 0)
			b, err := opts.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if checkDecode(t, d, p, md, string(b)) {
				taken++
			}
		}
	}
	// Strings with escapes and unknown enum numbers send most of them to
	// protojson; the rest must be enough to mean something.
	if taken < total/5 {
		t.Errorf("the decoder took %d of %d bodies", taken, total)
	}
}

// fillDecodable fills fields of the kinds the decoder reads itself.
func fillDecodable(g *filler, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch fd.Kind() {
		case protoreflect.FloatKind, protoreflect.DoubleKind, protoreflect.BytesKind:
			continue
		}
		if fd.IsMap() || g.r.IntN(3) > 0 {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && m.WhichOneof(od) != nil {
			continue
		}
		if fd.Kind() == protoreflect.EnumKind && fd.Enum().FullName() == "google.protobuf.NullValue" {
			continue
		}
		if fd.Message() != nil {
			if !plannable(fd.Message()) || depth >= 3 {
				continue
			}
			if fd.IsList() {
				list := m.Mutable(fd).List()
				for range g.r.IntN(3) {
					v := list.NewElement()
					fillDecodable(g, v.Message(), depth+1)
					list.Append(v)
				}
				continue
			}
			v := m.NewField(fd)
			fillDecodable(g, v.Message(), depth+1)
			m.Set(fd, v)
			continue
		}
		if fd.IsList() {
			list := m.Mutable(fd).List()
			for range g.r.IntN(3) {
				if v, ok := randomValue(g, fd, nil, depth); ok {
					list.Append(v)
				}
			}
			continue
		}
		if v, ok := randomValue(g, fd, nil, depth); ok {
			m.Set(fd, v)
		}
	}
}

// FuzzJSONDecoder feeds any bytes to the decoder: what it takes, protojson
// must take and read the same.
func FuzzJSONDecoder(f *testing.F) {
	md := jsonTestFiles(f)
	d := newJSONDecoder(protojson.UnmarshalOptions{DiscardUnknown: true})
	p := d.plan(md)
	g := &filler{r: rand.New(rand.NewPCG(7, 8))}
	for range 20 {
		m := dynamicpb.NewMessage(md)
		fillDecodable(g, m, 0)
		if b, err := protojson.Marshal(m); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"fInt32":"12","rUint64":[1,"2"],"child":{"colors":["COLOR_RED"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, d, p, md, string(data))
	})
}
