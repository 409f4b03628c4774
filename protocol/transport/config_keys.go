package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file makes a misspelt setting an error rather than a silently
// ignored line: Config, TLSConfig and BalanceConfig decode themselves from
// JSON and YAML and refuse a key they have no field for, naming the key and,
// where the decoder lets us know it, the line. The check works with
// encoding/json and with the YAML libraries that call
// UnmarshalYAML(func(any) error) (go.yaml.in/yaml/v3, gopkg.in/yaml.v2 and
// v3, github.com/goccy/go-yaml), so a plain yaml.Unmarshal or json.Unmarshal
// of a config file is strict with no option to remember; protocol itself
// imports no YAML library.

// ConfigKeyError is the error for a key in a JSON or YAML config that no
// field of the config has.
type ConfigKeyError struct {
	// Key is the unknown key with the path to it, such as "idle_timout" or
	// "tls.cert_flie".
	Key string
	// Line is the key's line, counted from 1, or 0 when the decoder does
	// not say. In JSON it counts from the line of the object's opening
	// brace, which is the file's line when the file holds the config alone.
	Line int
	// Type is the Go type whose fields were expected, such as
	// "transport.Config".
	Type string
	// Suggest is the known key closest to Key when one is close enough to
	// be a likely typo, or "".
	Suggest string
}

// Error implements error.
func (e *ConfigKeyError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString("unknown key ")
	b.WriteString(strconv.Quote(e.Key))
	b.WriteString(" (")
	b.WriteString(e.Type)
	b.WriteString(" has no such field")
	if e.Suggest != "" {
		b.WriteString("; did you mean ")
		b.WriteString(strconv.Quote(e.Suggest))
		b.WriteString("?")
	}
	b.WriteString(")")
	return b.String()
}

// UnmarshalJSON decodes c from a JSON object; a key that names no field is a
// *ConfigKeyError.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config // no methods: decodes without calling this one again
	return strictJSON(data, (*plain)(c), reflect.TypeFor[Config]())
}

// UnmarshalYAML decodes c from YAML; a key that names no field is a
// *ConfigKeyError. It has the signature that gopkg.in/yaml.v2,
// go.yaml.in/yaml/v3 and github.com/goccy/go-yaml call.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Config
	return strictYAML(unmarshal, (*plain)(c), reflect.TypeFor[Config]())
}

// UnmarshalJSON decodes c from a JSON object; a key that names no field is a
// *ConfigKeyError.
func (c *TLSConfig) UnmarshalJSON(data []byte) error {
	type plain TLSConfig
	return strictJSON(data, (*plain)(c), reflect.TypeFor[TLSConfig]())
}

// UnmarshalYAML decodes c from YAML; a key that names no field is a
// *ConfigKeyError.
func (c *TLSConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain TLSConfig
	return strictYAML(unmarshal, (*plain)(c), reflect.TypeFor[TLSConfig]())
}

// UnmarshalJSON decodes c from a JSON object; a key that names no field is a
// *ConfigKeyError.
func (c *BalanceConfig) UnmarshalJSON(data []byte) error {
	type plain BalanceConfig
	return strictJSON(data, (*plain)(c), reflect.TypeFor[BalanceConfig]())
}

// UnmarshalYAML decodes c from YAML; a key that names no field is a
// *ConfigKeyError.
func (c *BalanceConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain BalanceConfig
	return strictYAML(unmarshal, (*plain)(c), reflect.TypeFor[BalanceConfig]())
}

// strictJSON checks every key of data against t (nested config objects
// included), then decodes data into v.
func strictJSON(data []byte, v any, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := checkJSONValue(dec, data, t, ""); err != nil {
		var ke *ConfigKeyError
		if errors.As(err, &ke) {
			return err
		}
		// Malformed JSON: let encoding/json report it in its own words.
	}
	return json.Unmarshal(data, v)
}

// checkJSONValue reads one value from dec, checking object keys where t is
// a struct.
func checkJSONValue(dec *json.Decoder, data []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	if delim == '[' {
		elem := reflect.TypeFor[any]()
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkJSONValue(dec, data, elem, path); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		next := reflect.TypeFor[any]()
		if t.Kind() == reflect.Struct {
			// encoding/json matches keys without regard to case.
			f, ok := fieldByTag(t, "json", key, strings.EqualFold)
			if !ok {
				return &ConfigKeyError{Key: path + key, Line: lineAt(data, dec.InputOffset()), Type: typeName(t), Suggest: closestKey(t, "json", key)}
			}
			next = f.Type
		}
		if err := checkJSONValue(dec, data, next, path+key+"."); err != nil {
			return err
		}
	}
	_, err = dec.Token() // }
	return err
}

// lineAt is the line, counted from 1, of the byte at offset in data.
func lineAt(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return 1 + bytes.Count(data[:offset], []byte{'\n'})
}

// strictYAML decodes the mapping once into generic values to check its keys
// against t, then into v.
func strictYAML(unmarshal func(any) error, v any, t reflect.Type) error {
	var generic any
	if err := unmarshal(&generic); err == nil {
		if key, path, ok := unknownYAMLKey(generic, t, nil); ok {
			return &ConfigKeyError{
				Key:     strings.Join(append(path, key), "."),
				Line:    yamlLine(unmarshal, generic, path, key),
				Type:    typeName(structOf(t, path)),
				Suggest: closestKey(structOf(t, path), "yaml", key),
			}
		}
	}
	return unmarshal(v)
}

// unknownYAMLKey finds the first key (in sorted order) of a decoded YAML
// mapping that t has no field for, with the path of the mappings above it.
func unknownYAMLKey(v any, t reflect.Type, path []string) (key string, at []string, found bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", nil, false
	}
	for _, k := range yamlKeys(v) {
		f, ok := fieldByTag(t, "yaml", k.name, func(a, b string) bool { return a == b })
		if !ok {
			return k.name, path, true
		}
		if key, at, found := unknownYAMLKey(k.value, f.Type, append(path, k.name)); found {
			return key, at, true
		}
	}
	return "", nil, false
}

type yamlEntry struct {
	name  string
	value any
}

// yamlKeys lists a decoded mapping's entries sorted by key; YAML libraries
// decode mappings as map[string]any or map[any]any.
func yamlKeys(v any) []yamlEntry {
	var out []yamlEntry
	switch m := v.(type) {
	case map[string]any:
		for k, val := range m {
			out = append(out, yamlEntry{k, val})
		}
	case map[any]any:
		for k, val := range m {
			out = append(out, yamlEntry{fmt.Sprint(k), val})
		}
	}
	// Sorted, so that the key reported is the same on every run.
	slices.SortFunc(out, func(a, b yamlEntry) int { return strings.Compare(a.name, b.name) })
	return out
}

// keyTypeError matches one of the YAML libraries' type errors for a mapping
// key that would not decode ("line 3: cannot unmarshal !!str `idle_ti...`
// into chan struct {}"); the libraries shorten long values to 7 characters
// and "...".
var keyTypeError = regexp.MustCompile("line (\\d+): cannot unmarshal !!str `([^`]*)` into chan")

// valueTypeError matches the line of any of their type errors.
var valueTypeError = regexp.MustCompile(`line (\d+)`)

// yamlLine asks the YAML library for the line of the unknown key. The
// func(any) error interface hands over no positions, but the libraries put
// lines in the type errors they return, so yamlLine decodes the document
// once more into a type built to fail where the key is. First the mapping
// that holds the key is decoded into a map whose keys are channels, which
// no key decodes into: each key's error carries its line and its text. If
// the text is shortened so that two keys match, the key's value is decoded
// into a channel instead, which gives the line where the value starts (the
// key's line, but for a block mapping or list, which start below it). 0 if
// neither works (a null value, which decodes into anything, under a
// shortened key that another shares; a key that cannot be a struct tag).
func yamlLine(unmarshal func(any) error, generic any, path []string, key string) int {
	if probe, ok := probeType(generic, path, key, true); ok {
		if err := unmarshal(reflect.New(probe).Interface()); err != nil {
			line, matches := 0, 0
			for _, m := range keyTypeError.FindAllStringSubmatch(err.Error(), -1) {
				text := m[2]
				if text == key || strings.HasSuffix(text, "...") && strings.HasPrefix(key, strings.TrimSuffix(text, "...")) {
					line, _ = strconv.Atoi(m[1])
					matches++
				}
			}
			if matches == 1 {
				return line
			}
		}
	}
	if probe, ok := probeType(generic, path, key, false); ok {
		if err := unmarshal(reflect.New(probe).Interface()); err != nil {
			if m := valueTypeError.FindStringSubmatch(err.Error()); m != nil {
				n, _ := strconv.Atoi(m[1])
				return n
			}
		}
	}
	return 0
}

// probeType builds the type yamlLine decodes into. Above the unknown key's
// level it is a struct with a field for every key present, of type any
// except the one on the path, a nested probe. At the key's level it is, with
// keys set, a map from channels; else the struct again, with the unknown
// key's field a channel.
func probeType(v any, path []string, key string, keys bool) (reflect.Type, bool) {
	if len(path) == 0 && keys {
		return reflect.TypeFor[map[chan struct{}]any](), true
	}
	var fields []reflect.StructField
	for i, k := range yamlKeys(v) {
		if strings.ContainsAny(k.name, "\",`\\ ") || k.name == "" {
			return nil, false
		}
		typ := reflect.TypeFor[any]()
		switch {
		case len(path) == 0 && k.name == key:
			typ = reflect.TypeFor[chan struct{}]()
		case len(path) > 0 && k.name == path[0]:
			nested, ok := probeType(k.value, path[1:], key, keys)
			if !ok {
				return nil, false
			}
			typ = nested
		}
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: typ,
			Tag:  reflect.StructTag(`yaml:"` + k.name + `"`),
		})
	}
	return reflect.StructOf(fields), true
}

// structOf follows path's keys from t through its yaml fields.
func structOf(t reflect.Type, path []string) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, k := range path {
		f, ok := fieldByTag(t, "yaml", k, func(a, b string) bool { return a == b })
		if !ok {
			return t
		}
		t = f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return t
}

// fieldByTag finds the field of struct t whose tag (json or yaml) names key.
func fieldByTag(t reflect.Type, tag, key string, eq func(a, b string) bool) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name := tagName(f, tag); name != "" && eq(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tagName is the key a field is decoded from, or "" for a field that is
// never decoded.
func tagName(f reflect.StructField, tag string) string {
	if !f.IsExported() {
		return ""
	}
	v, ok := f.Tag.Lookup(tag)
	if !ok {
		return f.Name
	}
	name, _, _ := strings.Cut(v, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// closestKey returns the known key of t nearest to key, if it is within two
// edits (or key is a known key's prefix or extension), else "".
func closestKey(t reflect.Type, tag, key string) string {
	best, bestDist := "", 3
	for i := range t.NumField() {
		name := tagName(t.Field(i), tag)
		if name == "" {
			continue
		}
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// typeName is "transport.Config" for Config and so on.
func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.String()
}
