package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a README whose walkthrough uses every marker with shell
// commands only.
const sample = "# Title\n\n```sh\nnot in the section: not run\n```\n\n## Try it\n\n" +
	"<!-- walkthrough: skip (installs things) -->\n```sh\nexit 1\n```\n\n" +
	"<!-- walkthrough: run -->\n```sh\nmkdir app && cd app\n# a comment line\necho one \\\n  two\n```\n\n" +
	"<!-- walkthrough: expect -->\n```text\none two\n```\n\n" +
	"<!-- walkthrough: file conf/settings.txt -->\n```\nname: 'quoted' $HOME\n```\n\n" +
	"<!-- walkthrough: start \"ready\" -->\n```sh\nsh -c 'echo getting ready; sleep 0.2; echo ready; exec sleep 60'\n```\n\n" +
	"<!-- walkthrough: run -->\n```sh\ncat conf/settings.txt\npwd\n```\n\n" +
	"<!-- walkthrough: expect -->\n```text\nname: 'quoted' $HOME\n/app\n```\n\n" +
	"<!-- walkthrough: expect-background -->\n```text\ngetting ready\n```\n\n" +
	"<!-- walkthrough: stop -->\n\n## Next\n\n```sh\nnot run either\n```\n"

func TestExtract(t *testing.T) {
	actions, err := extract(sample, "Try it")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []actionKind
	for _, a := range actions {
		kinds = append(kinds, a.kind)
	}
	want := []actionKind{actionRun, actionExpect, actionFile, actionStart, actionRun, actionExpect, actionExpectBackground, actionStop}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
	if got := commands(actions[0].lines); strings.Join(got, "|") != "mkdir app && cd app|echo one two" {
		t.Errorf("commands %q", got)
	}
	if actions[2].arg != "conf/settings.txt" || actions[3].arg != "ready" {
		t.Errorf("args %q, %q", actions[2].arg, actions[3].arg)
	}
}

func TestExtractErrors(t *testing.T) {
	tests := map[string]string{
		"## S\n\n```sh\nls\n```\n":                                                   "without a walkthrough marker",
		"## S\n\n<!-- walkthrough: runn -->\n```sh\nls\n```\n":                       "unknown walkthrough marker",
		"## S\n\n<!-- walkthrough: run\n```sh\nls\n```\n":                            "malformed",
		"## S\n\n<!-- walkthrough: expect -->\n```\nx\n```\n":                        "must follow a run block",
		"## S\n\n<!-- walkthrough: start \"x\" -->\n```sh\na\nb\n```\n":              "exactly one command",
		"## S\n\n<!-- walkthrough: start -->\n```sh\na\n```\n":                       "quoted text",
		"## S\n\n<!-- walkthrough: file /etc/passwd -->\n```\nx\n```\n":              "plain relative path",
		"## S\n\n<!-- walkthrough: file ../x -->\n```\nx\n```\n":                     "plain relative path",
		"## S\n\n<!-- walkthrough: run -->\nsome prose\n```sh\nls\n```\n":            "text between",
		"## S\n\n<!-- walkthrough: run -->\n<!-- walkthrough: run -->\n```sh\n```\n": "follows another",
		"## S\n\n<!-- walkthrough: run -->\n```sh\nserver &\n```\n":                  "use a start block",
		"## S\n\n<!-- walkthrough: skip -->\n```sh\nls\n```\n":                       "needs a reason",
		"## S\n\n<!-- walkthrough: run -->\n```sh\nls\n":                             "not closed",
		"## S\n\n<!-- walkthrough: run -->\n":                                        "has no code block",
		"## S\n\nnothing here\n":                                                     "no walkthrough steps",
		"## T\n\n<!-- walkthrough: run -->\n```sh\nls\n```\n":                        "no section",
		"## S\n\n<!-- walkthrough: expect-background -->\n```\nx\n```\n":             "needs a command started in the background",
	}
	for readme, want := range tests {
		if _, err := extract(readme, "S"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("extract(%q) = %v, want an error with %q", readme, err, want)
		}
	}
	actions, err := extract("## S\n\n<!-- walkthrough: file a -->\n```\n"+heredoc+"\n```\n", "S")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := script(actions); err == nil {
		t.Error("a file holding the heredoc delimiter was accepted")
	}
}

// runScript runs the script of a README in a temporary folder.
func runScript(t *testing.T, readme, section string) (string, error) {
	t.Helper()
	actions, err := extract(readme, section)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := script(actions)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "walk.sh")
	if err := os.WriteFile(file, []byte(sh), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", file)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	return strings.ReplaceAll(string(out), work, ""), err
}

func TestScriptRuns(t *testing.T) {
	out, err := runScript(t, sample, "Try it")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"$ mkdir app && cd app", "one two", "(wrote conf/settings.txt)", "getting ready", "$ ^C", "every step of the README worked"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestScriptFails(t *testing.T) {
	tests := map[string]string{
		"a failing command":               "<!-- walkthrough: run -->\n```sh\necho fine\nfalse\necho never\n```\n",
		"an unmet expectation":            "<!-- walkthrough: run -->\n```sh\necho hello\n```\n<!-- walkthrough: expect -->\n```\ngoodbye\n```\n",
		"a start that ends early":         "<!-- walkthrough: start \"ready\" -->\n```sh\necho not yet\n```\n",
		"a stop without start":            "<!-- walkthrough: stop -->\n",
		"an unmet background expectation": "<!-- walkthrough: start \"r\" -->\n```sh\nsh -c 'echo r; exec sleep 60'\n```\n<!-- walkthrough: expect-background -->\n```\nabsent words\n```\n<!-- walkthrough: stop -->\n",
		"a second start while one runs":   "<!-- walkthrough: start \"r\" -->\n```sh\nsh -c 'echo r; exec sleep 60'\n```\n<!-- walkthrough: start \"r\" -->\n```sh\nsh -c 'echo r; exec sleep 60'\n```\n",
	}
	for name, body := range tests {
		out, err := runScript(t, "## S\n\n"+body, "S")
		if err == nil || !strings.Contains(out, "walkthrough: README line") || strings.Contains(out, "never") {
			t.Errorf("%s: err %v\n%s", name, err, out)
		}
	}
}

// TestRootREADME checks the markers of the real README, without running
// it: the CI step does that.
func TestRootREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := extract(string(readme), "Your first service")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := script(actions); err != nil {
		t.Fatal(err)
	}
	starts, stops := 0, 0
	for _, a := range actions {
		switch a.kind {
		case actionStart:
			starts++
		case actionStop:
			stops++
		}
	}
	// Step 0 comes first: without the local proxy nothing after it can
	// find polyconnect's modules from a folder outside the clone.
	for _, a := range actions {
		if a.kind != actionRun {
			continue
		}
		if len(a.lines) == 0 || !strings.Contains(a.lines[0], clonePlaceholder+"/scripts/goproxy.sh") {
			t.Errorf("the first command the walkthrough runs is %q, want the eval of %s/scripts/goproxy.sh (step 0)", a.lines, clonePlaceholder)
		}
		break
	}
	if starts == 0 || starts != stops {
		t.Errorf("%d starts and %d stops: each server the walkthrough starts must be stopped", starts, stops)
	}
}
