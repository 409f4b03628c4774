package transcode

import (
	"net/url"
	"strings"
	"testing"

	transcodetestv1 "polyconnect.dev/transcode/internal/gen/transcodetest/v1"
)

// FuzzParseTemplate parses arbitrary templates. A template that parses must
// print as an OpenAPI path, parse again the same from its own text, and match
// the path built by filling its wildcards in, binding each variable.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"/", "/v1/books", "/v1/{name}", "/v1/{name=shelves/*/books/*}", "/v1/{book.name=shelves/*}/x:verb",
		"/v1/files/{path=**}", "/v1/{a}/{b=c/**}:do", "/*/**", "/v1/{x=*}", "/v1/{a.b.c}", "/{=}", "/{a{b}}",
		"/v1/:x", "/v1/a:b:c", "//", "/v1/{name=**}/x", "/a/{b}/{b}", "/v1/{nam e}", "/" + strings.Repeat("{", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := parseTemplate(s)
		if err != nil {
			return
		}
		_ = tmpl.openAPIPath()
		again, err := parseTemplate(tmpl.raw)
		if err != nil || len(again.segs) != len(tmpl.segs) || len(again.vars) != len(tmpl.vars) || again.verb != tmpl.verb {
			t.Fatalf("%q parsed once, not twice the same: %v", s, err)
		}
		// Fill the template in: literals as themselves, "*" as "x", "**" as
		// "y/z".
		var b strings.Builder
		for _, seg := range tmpl.segs {
			b.WriteByte('/')
			switch seg.kind {
			case segLiteral:
				b.WriteString(url.PathEscape(seg.lit))
			case segSingle:
				b.WriteString("x")
			case segDeep:
				b.WriteString("y/z")
			}
		}
		if len(tmpl.segs) == 0 {
			b.WriteByte('/')
		}
		if tmpl.verb != "" {
			b.WriteString(":" + tmpl.verb)
		}
		var p requestPath
		if !p.split(b.String()) {
			return // too many segments
		}
		vals, ok := tmpl.match(&p, nil)
		if !ok {
			t.Fatalf("template %q does not match its own filling %q", s, b.String())
		}
		if len(vals) != len(tmpl.vars) {
			t.Fatalf("template %q bound %d values for %d variables", s, len(vals), len(tmpl.vars))
		}
	})
}

// FuzzMatch matches arbitrary request paths against the test service's
// templates and unescapes what they bind: no panics, and a binding of a
// single-segment variable never holds a raw slash.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"/v1/shelves/s/books/b", "/v1/books/a%2Fb", "/v1/files/a/b/c", "/v1/files/a%2fb", "/v1/x:archive", "/:verb",
		"/v1/books:search", "/v1/shelves/s/books:stream", "/v1/%zz", "/v1/books/%", "/v1/echo/a/1/GENRE_FICTION", "/",
		"/v1/files/", "/v1/files", "/v1/shelves/s:books",
	} {
		f.Add(s)
	}
	var tmpls []*pathTemplate
	for _, s := range []string{
		"/v1/{name=shelves/*/books/*}", "/v1/books/{name}", "/v1/{parent=shelves/*}/books", "/v1/{name=shelves/*/books/*}:archive",
		"/v1/books:search", "/v1/{name=shelves/*}:books", "/v1/files/{path=**}", "/v1/files/{path=**}:upload",
		"/v1/echo/{a}/{b}/{c}", "/", "/{x}:verb",
	} {
		tmpl, err := parseTemplate(s)
		if err != nil {
			f.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	f.Fuzz(func(t *testing.T, path string) {
		var p requestPath
		if !p.split(path) {
			return
		}
		for _, tmpl := range tmpls {
			vals, ok := tmpl.match(&p, nil)
			if !ok {
				continue
			}
			for i, v := range tmpl.vars {
				if !v.multi(tmpl) && strings.Contains(vals[i], "/") {
					t.Fatalf("%q against %q: single-segment variable bound %q", path, tmpl.raw, vals[i])
				}
				u, err := unescape(vals[i], v.multi(tmpl))
				if err == nil && v.multi(tmpl) && strings.Count(u, "/") != strings.Count(vals[i], "/") {
					t.Fatalf("%q: unescaping a multi-segment value changed its slashes: %q -> %q", path, vals[i], u)
				}
			}
		}
	})
}

// FuzzQuery decodes arbitrary query strings into the test service's
// Everything message, which has every kind of field: errors are fine, panics
// and hangs are not.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"int32Value=1&int64_value=2&tags=a", "repeatedInt32=1&repeatedInt32=2", "mapStringInt32[a]=1&map_int32_string[5]=x",
		"nested.title=t&nested.labels[k]=v", "timestamp=2020-01-01T00:00:00Z&duration=1s&fieldMask=a,b",
		"struct=%7B%7D&value=1&listValue=%5B%5D", "int64Wrapper=3&bytesValue=AA%3D%3D", "choiceString=a&choiceInt64=2",
		"a;b", "%zz=1", "x=%", "enumValue=2&repeatedEnum=GENRE_FICTION", "nested.publish_time=bad", "nested=1",
		"any=%7B%7D", "empty=", "floatValue=NaN&doubleValue=-Infinity", "mapInt32String[x]=1", "[]=1", "a[b]c]=1",
	} {
		f.Add(s)
	}
	md := (&transcodetestv1.Everything{}).ProtoReflect().Descriptor()
	strict := newQueryDecoder(md, nil, true)
	loose := newQueryDecoder(md, nil, false)
	f.Fuzz(func(t *testing.T, q string) {
		for _, d := range []*queryDecoder{strict, loose} {
			m := (&transcodetestv1.Everything{}).ProtoReflect()
			_ = d.decode(m, q)
		}
	})
}
