package transcode

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxQueryParams bounds the parameters of one query string, as net/url does
// by default.
const maxQueryParams = 10000

// queryDecoder sets request fields from query parameters.
//
// A parameter names a field by its dotted path, each element a proto name
// or a JSON name (page_size or pageSize, filter.author). A repeated field
// takes every value of its parameter (tags=a&tags=b); a map field takes
// name[key]=value; a singular field takes one value. Parameters for fields
// already bound by the path or the body are ignored, as the google.api.http
// rules say. Parameters naming no field are ignored unless strict, when they
// are an INVALID_ARGUMENT error: see WithRejectUnknownQueryParameters.
type queryDecoder struct {
	md     protoreflect.MessageDescriptor
	bound  []fieldPath // fields bound by path variables and the body
	strict bool
	top    []fieldPath // by field index, the one-element path of each field of md
}

// newQueryDecoder returns the decoder of a route's query parameters.
func newQueryDecoder(md protoreflect.MessageDescriptor, bound []fieldPath, strict bool) *queryDecoder {
	fields := md.Fields()
	top := make([]fieldPath, fields.Len())
	for i := range top {
		top[i] = fieldPath{fields.Get(i)}
	}
	return &queryDecoder{md: md, bound: bound, strict: strict, top: top}
}

// decode parses rawQuery into m.
func (d *queryDecoder) decode(m protoreflect.Message, rawQuery string) error {
	var setBuf [4]fieldPath
	set := setBuf[:0] // singular fields set so far
	n := 0
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			return errors.New("invalid semicolon separator in query")
		}
		if pair == "" {
			continue
		}
		if n++; n > maxQueryParams {
			return fmt.Errorf("more than %d query parameters", maxQueryParams)
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return fmt.Errorf("query parameter %q: %w", rawKey, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return fmt.Errorf("query parameter %q: %w", key, err)
		}
		if set, err = d.param(m, key, value, set); err != nil {
			return err
		}
	}
	return nil
}

// param applies one key=value.
func (d *queryDecoder) param(m protoreflect.Message, key, value string, set []fieldPath) ([]fieldPath, error) {
	name, mapKey, isMap := splitMapKey(key)
	path, err := d.resolve(name)
	if err != nil {
		return set, err
	}
	if path == nil {
		if d.strict {
			return set, fmt.Errorf("unknown query parameter %q: %s has no such field", key, d.md.FullName())
		}
		return set, nil
	}
	if d.isBound(path) {
		return set, nil
	}
	fd := path[len(path)-1]
	if isMap {
		if !fd.IsMap() {
			return set, fmt.Errorf("query parameter %q: field %q is not a map", key, fd.Name())
		}
		parent := mutableParent(m, path)
		mp := parent.Mutable(fd).Map()
		k, err := parseValue(fd.MapKey(), mapKey, nil)
		if err != nil {
			return set, fmt.Errorf("query parameter %q: map key: %w", key, err)
		}
		v, err := parseValue(fd.MapValue(), value, mp.NewValue)
		if err != nil {
			return set, fmt.Errorf("query parameter %q: %w", key, err)
		}
		mp.Set(k.MapKey(), v)
		return set, nil
	}
	if fd.IsMap() {
		return set, fmt.Errorf("query parameter %q: map field %q takes %s[key]=value", key, fd.Name(), key)
	}
	if err := checkBindable(fd); err != nil {
		return set, fmt.Errorf("query parameter %q: %w", key, err)
	}
	if !fd.IsList() {
		for _, p := range set {
			if samePath(p, path) {
				return set, fmt.Errorf("query parameter %q: field %q takes one value, given more", key, path.String())
			}
		}
		set = append(set, path)
	}
	if err := setFromString(m, path, value, false); err != nil {
		return set, fmt.Errorf("query parameter %q: %w", key, err)
	}
	return set, nil
}

// resolve finds the field a parameter names; nil if there is none.
func (d *queryDecoder) resolve(name string) (fieldPath, error) {
	if strings.IndexByte(name, '.') < 0 {
		// A field of the request itself: its path is made already.
		fd := lookupField(d.md, name)
		if fd == nil {
			return nil, nil
		}
		return d.top[fd.Index()], nil
	}
	md := d.md
	var path fieldPath
	for part := range strings.SplitSeq(name, ".") {
		if len(path) > 0 {
			prev := path[len(path)-1]
			if prev.Message() == nil || prev.IsList() || prev.IsMap() || isScalarMessage(prev.Message().FullName()) {
				return nil, fmt.Errorf("query parameter %q: %q is not a singular message field", name, prev.Name())
			}
			md = prev.Message()
		}
		fd := lookupField(md, part)
		if fd == nil {
			return nil, nil
		}
		path = append(path, fd)
	}
	return path, nil
}

// isBound reports whether path is, contains or is inside a field that the
// route's path variables or body bind.
func (d *queryDecoder) isBound(path fieldPath) bool {
	for _, b := range d.bound {
		n := min(len(b), len(path))
		if samePath(b[:n], path[:n]) {
			return true
		}
	}
	return false
}

func samePath(a, b fieldPath) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// splitMapKey splits "field[key]" into "field" and "key".
func splitMapKey(key string) (name, mapKey string, ok bool) {
	if !strings.HasSuffix(key, "]") {
		return key, "", false
	}
	open := strings.LastIndexByte(key, '[')
	if open <= 0 {
		return key, "", false
	}
	return key[:open], key[open+1 : len(key)-1], true
}
