package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"polyconnect.dev/protocol/transport"
)

// loadConfig reads a transport.Config from a YAML file, or a JSON one if
// the name ends in .json; "" gives the zero Config. Unknown fields are
// errors, so a misspelt setting is not silently ignored.
func loadConfig(path string) (transport.Config, error) {
	var cfg transport.Config
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return cfg, fmt.Errorf("config %s: %s", path, strings.Join(te.Errors, "; "))
		}
		if errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s is empty", path)
		}
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}
