package main

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

// command is one curl command of the README and the output it shows.
type command struct {
	line string
	want []string
}

// readmeCommands extracts each ```sh block's command and the ```json block
// that follows it.
func readmeCommands(t *testing.T) []command {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []command
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		c := command{line: lines[i+1]}
		if lines[i+2] != "```" || lines[i+3] != "```json" {
			t.Fatalf("README line %d: a ```sh block of one command must be followed by a ```json block", i+1)
		}
		for j := i + 4; j < len(lines) && lines[j] != "```"; j++ {
			c.want = append(c.want, lines[j])
		}
		out = append(out, c)
	}
	return out
}

// TestREADMECommands runs every curl command of the README, in order, against
// a fresh server and compares what it prints with what the README shows.
func TestREADMECommands(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("POLYCONNECT_REQUIRE_TOOLS") == "1" || os.Getenv("CI") != "" {
			t.Fatal("curl is missing (required in CI): apt-get install curl")
		}
		t.Skip("curl is missing")
	}
	commands := readmeCommands(t)
	if len(commands) < 10 {
		t.Fatalf("found %d commands in the README", len(commands))
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", io.Discard, started) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	var base string
	select {
	case base = <-started:
	case err := <-done:
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		line := strings.ReplaceAll(c.line, "localhost:8080", u.Host)
		// A generous minute a command: the machine may be busy.
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(cctx, "bash", "-c", line).Output()
		ccancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(got) != len(c.want) {
			t.Errorf("%s:\nprinted %q\nREADME  %q", c.line, got, c.want)
			continue
		}
		for i := range got {
			if !sameLine(got[i], c.want[i]) {
				t.Errorf("%s: line %d:\nprinted %s\nREADME  %s", c.line, i+1, got[i], c.want[i])
			}
		}
	}
}

// sameLine compares two JSON values, or else two lines of text.
func sameLine(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil {
		return reflect.DeepEqual(x, y)
	}
	return a == b
}
