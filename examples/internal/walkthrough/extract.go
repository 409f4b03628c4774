package main

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The README marks what the walkthrough runs with HTML comments, which
// do not show when it is rendered. Each marker stands on its own line,
// before the fenced block it applies to (blank lines may separate them):
//
//	<!-- walkthrough: run -->             the block's lines are commands, run in order
//	<!-- walkthrough: file PATH -->       the block is written to PATH
//	<!-- walkthrough: start UNTIL -->     the block's one command starts in the background;
//	                                      the walkthrough goes on once its output contains UNTIL
//	<!-- walkthrough: expect -->          each line of the block must be in the output of the
//	                                      commands of the last run block
//	<!-- walkthrough: expect-background -->  each line of the block must be in the output of the
//	                                      command running in the background
//	<!-- walkthrough: skip REASON -->     the block is not run (installing buf, say)
//	<!-- walkthrough: stop -->            (no block) stops what start started
//
// Every fenced block of the section must carry a marker, so no command of
// the README goes unchecked by accident.

// actionKind is what the walkthrough does with a block.
type actionKind int

const (
	actionRun actionKind = iota
	actionFile
	actionStart
	actionExpect
	actionExpectBackground
	actionStop
)

// action is one step of the walkthrough.
type action struct {
	kind  actionKind
	arg   string   // the file path, or the text start waits for
	lines []string // the block's lines
	line  int      // where the block starts in the README, for messages
}

var markerRE = regexp.MustCompile(`^<!--\s*walkthrough:\s*([\w-]+)\s*(.*?)\s*-->\s*$`)

// extract returns the actions of the README section whose heading is
// "## "+section.
func extract(readme, section string) ([]action, error) {
	var (
		actions []action
		pending *action // a marker waiting for its block
		in      bool    // inside the section
		found   bool
		fence   string // the open fence, or ""
		block   []string
		skip    bool
		lineNo  int
	)
	sc := bufio.NewScanner(strings.NewReader(readme))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if fence == "" && strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(strings.TrimPrefix(line, "## ")) == section
			found = found || in
			continue
		}
		if !in {
			continue
		}
		if fence != "" {
			if strings.TrimSpace(line) == fence {
				fence = ""
				if !skip {
					pending.lines = block
					actions = append(actions, *pending)
				}
				pending, skip = nil, false
				continue
			}
			block = append(block, line)
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if pending == nil && !skip {
				return nil, fmt.Errorf("README line %d: a code block without a walkthrough marker (run, file, start, expect or skip)", lineNo)
			}
			fence = "```"
			block = nil
			if pending != nil {
				pending.line = lineNo
			}
			continue
		}
		m := markerRE.FindStringSubmatch(trimmed)
		if m == nil {
			if strings.Contains(trimmed, "walkthrough:") {
				return nil, fmt.Errorf("README line %d: malformed walkthrough marker %q", lineNo, trimmed)
			}
			if trimmed != "" && (pending != nil || skip) {
				return nil, fmt.Errorf("README line %d: text between a walkthrough marker and its code block", lineNo)
			}
			continue
		}
		if pending != nil || skip {
			return nil, fmt.Errorf("README line %d: a walkthrough marker follows another without a code block", lineNo)
		}
		kind, arg := m[1], m[2]
		switch kind {
		case "run", "expect", "expect-background":
			if arg != "" {
				return nil, fmt.Errorf("README line %d: %q takes no argument", lineNo, kind)
			}
			pending = &action{kind: map[string]actionKind{"run": actionRun, "expect": actionExpect, "expect-background": actionExpectBackground}[kind]}
		case "file":
			if arg == "" || strings.ContainsAny(arg, " '\"$`\\") || strings.HasPrefix(arg, "/") || strings.Contains(arg, "..") {
				return nil, fmt.Errorf("README line %d: file needs a plain relative path, got %q", lineNo, arg)
			}
			pending = &action{kind: actionFile, arg: arg}
		case "start":
			until, err := strconv.Unquote(arg)
			if err != nil || until == "" {
				return nil, fmt.Errorf(`README line %d: start needs the quoted text that says it is ready, such as start "serving"`, lineNo)
			}
			pending = &action{kind: actionStart, arg: until}
		case "skip":
			if arg == "" {
				return nil, fmt.Errorf("README line %d: skip needs a reason", lineNo)
			}
			skip = true
		case "stop":
			actions = append(actions, action{kind: actionStop, line: lineNo})
		default:
			return nil, fmt.Errorf("README line %d: unknown walkthrough marker %q", lineNo, kind)
		}
	}
	switch {
	case !found:
		return nil, fmt.Errorf("README has no section %q", "## "+section)
	case fence != "":
		return nil, errors.New("README: a code block of the walkthrough is not closed")
	case pending != nil || skip:
		return nil, errors.New("README: a walkthrough marker at the end of the section has no code block")
	case len(actions) == 0:
		return nil, fmt.Errorf("README section %q has no walkthrough steps", section)
	}
	return actions, validate(actions)
}

// validate checks what the markers cannot: a start is one command, an
// expect follows a run, commands are whole lines.
func validate(actions []action) error {
	for i, a := range actions {
		switch a.kind {
		case actionStart:
			if len(commands(a.lines)) != 1 {
				return fmt.Errorf("README line %d: a start block holds exactly one command", a.line)
			}
		case actionExpect:
			if i == 0 || actions[i-1].kind != actionRun {
				return fmt.Errorf("README line %d: an expect block must follow a run block", a.line)
			}
		case actionExpectBackground:
			if !running(actions[:i]) {
				return fmt.Errorf("README line %d: an expect-background block needs a command started in the background", a.line)
			}
		case actionRun:
			for _, c := range commands(a.lines) {
				if strings.HasSuffix(c, "&") || strings.Contains(c, "<<") {
					return fmt.Errorf("README line %d: %q: use a start block for background commands and a file block for files", a.line, c)
				}
			}
		}
	}
	return nil
}

// commands joins a block's lines into commands: backslash continuations
// are joined, blank lines and comment lines dropped.
func commands(lines []string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSpace(strings.TrimSuffix(t, "\\")))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(t)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// running reports whether, after actions, a command started in the
// background is still running.
func running(actions []action) bool {
	on := false
	for _, a := range actions {
		switch a.kind {
		case actionStart:
			on = true
		case actionStop:
			on = false
		}
	}
	return on
}
