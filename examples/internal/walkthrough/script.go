package main

import (
	"fmt"
	"strings"
)

// heredoc ends the files the script writes; no README file may hold it.
const heredoc = "WALKTHROUGH_END_OF_FILE"

// prelude defines the helpers the generated script calls.
const prelude = `#!/usr/bin/env bash
# Generated from the README by polyconnect.dev/examples/internal/walkthrough: do not edit.
set -uo pipefail
set -m # background commands get a process group of their own, to stop them whole
out="$(mktemp)"
bg_pid=""
bg_log=""
trap 'if [[ -n "$bg_pid" ]]; then kill -KILL -- "-$bg_pid" 2>/dev/null; fi; rm -f "$out"' EXIT

fail() {
	echo "walkthrough: $1" >&2
	exit 1
}

# run LINE COMMAND: runs a README command in this shell (so cd sticks) and keeps its output for expect.
run() {
	echo "\$ $2"
	local o status
	o="$(mktemp)"
	eval "$2" >"$o" 2>&1 </dev/null
	status=$?
	cat "$o"
	cat "$o" >>"$out"
	rm -f "$o"
	((status == 0)) || fail "README line $1: '$2' exited with status $status"
}

# expect LINE TEXT: the output of the last run block contains TEXT.
expect() {
	if ! grep -qF -- "$2" "$out"; then
		echo "--- the output was:" >&2
		cat "$out" >&2
		fail "README line $1: the output lacks '$2'"
	fi
}

# expect_background LINE TEXT: the output of the command running in the background contains TEXT.
expect_background() {
	# It may still be writing: give it a moment.
	for ((i = 0; i < 50; i++)); do
		grep -qF -- "$2" "$bg_log" && return 0
		sleep 0.1
	done
	echo "--- its output was:" >&2
	cat "$bg_log" >&2
	fail "README line $1: the background command's output lacks '$2'"
}

# start LINE UNTIL COMMAND: starts COMMAND in the background and waits until its output has UNTIL.
start() {
	[[ -z "$bg_pid" ]] || fail "README line $1: start while another command runs in the background"
	echo "\$ $3    # in the background"
	bg_log="$(mktemp)"
	bash -c "$3" >"$bg_log" 2>&1 </dev/null &
	bg_pid=$!
	# Up to five minutes: go run compiles first, and CI machines are busy.
	for ((i = 0; i < 1500; i++)); do
		if grep -qF -- "$2" "$bg_log"; then
			cat "$bg_log"
			return 0
		fi
		if ! kill -0 "$bg_pid" 2>/dev/null; then
			cat "$bg_log"
			bg_pid=""
			fail "README line $1: '$3' ended before it printed '$2'"
		fi
		sleep 0.2
	done
	cat "$bg_log"
	fail "README line $1: '$3' did not print '$2' within five minutes"
}

# stop LINE: interrupts what start started, as Ctrl-C would, and waits for it to end.
stop() {
	[[ -n "$bg_pid" ]] || fail "README line $1: stop without start"
	echo "\$ ^C"
	kill -INT -- "-$bg_pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$bg_pid" 2>/dev/null
	wait "$bg_pid" 2>/dev/null
	bg_pid=""
}
`

// script turns the actions into a bash script.
func script(actions []action) (string, error) {
	var b strings.Builder
	b.WriteString(prelude)
	for _, a := range actions {
		fmt.Fprintf(&b, "\n# README line %d\n", a.line)
		switch a.kind {
		case actionRun:
			b.WriteString(": >\"$out\"\n")
			for _, c := range commands(a.lines) {
				fmt.Fprintf(&b, "run %d %s\n", a.line, quote(c))
			}
		case actionExpect, actionExpectBackground:
			fn := "expect"
			if a.kind == actionExpectBackground {
				fn = "expect_background"
			}
			for _, l := range a.lines {
				if t := strings.TrimSpace(l); t != "" {
					fmt.Fprintf(&b, "%s %d %s\n", fn, a.line, quote(t))
				}
			}
		case actionFile:
			for _, l := range a.lines {
				if l == heredoc {
					return "", fmt.Errorf("README line %d: the file holds the line %s", a.line, heredoc)
				}
			}
			fmt.Fprintf(&b, "mkdir -p \"$(dirname %s)\"\ncat >%s <<'%s'\n", quote(a.arg), quote(a.arg), heredoc)
			for _, l := range a.lines {
				b.WriteString(l)
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%s\necho %s\n", heredoc, quote("(wrote "+a.arg+")"))
		case actionStart:
			fmt.Fprintf(&b, "start %d %s %s\n", a.line, quote(a.arg), quote(commands(a.lines)[0]))
		case actionStop:
			fmt.Fprintf(&b, "stop %d\n", a.line)
		}
	}
	b.WriteString("\necho\necho \"walkthrough: every step of the README worked\"\n")
	return b.String(), nil
}

// quote quotes s for bash, in single quotes.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
