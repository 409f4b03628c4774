//go:build unix

package transporttest

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv names the test a re-executed test binary runs as the child of
// DescriptorExhaustion.
const childEnv = "POLYCONNECT_TRANSPORTTEST_FD_CHILD"

// fdLimit is the descriptor limit of the child: room for the runtime, the
// listener and a few connections, then the descriptors it fills.
const fdLimit = 256

// exhaustionBound bounds each wait for the child. Nothing in the test
// depends on timing: the bound only turns a server that never serves again
// into a failure, and is generous because the machine may be busy.
const exhaustionBound = 60 * time.Second

// DescriptorExhaustion checks that a server survives running out of file
// descriptors. It re-runs the calling test in a child process (the test
// must call DescriptorExhaustion first, and do nothing else the child
// should not), where start starts a server of the transport on a loopback
// port, with logger as its Config.Logger, and returns its URL. The child
// lowers its descriptor limit and opens files until none is left. The
// parent then makes a request with do, which the server cannot accept;
// once the server has reported the failed accept, the child frees its
// descriptors, and the request must succeed: the server serves again.
//
// Servers that stop for good on EMFILE (an accept loop that returns on any
// error that is not a timeout) fail it.
func DescriptorExhaustion(t *testing.T, start func(t testing.TB, logger *slog.Logger) string, do func(url string) error) {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		exhaustionChild(t, start)
		return
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	var output strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	done := false
	defer func() {
		stdin.Close()
		if !done {
			_ = cmd.Process.Kill()
		}
		for range lines { // until the child's stdout closes
		}
		err := cmd.Wait()
		if done && err != nil {
			t.Errorf("child: %v\n%s\n%s", err, output.String(), stderr.String())
		}
	}()
	// await waits for a line of the child's output that contains marker
	// and returns what follows it.
	await := func(marker string) (string, bool) {
		timeout := time.After(exhaustionBound)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					return "", false
				}
				output.WriteString(line + "\n")
				if _, after, found := strings.Cut(line, marker); found {
					return after, true
				}
			case <-timeout:
				return "", false
			}
		}
	}
	url, ok := await("URL ")
	if !ok {
		t.Fatalf("the child did not start its server:\n%s\n%s", output.String(), stderr.String())
	}
	if _, ok := await("FULL"); !ok {
		t.Fatalf("the child did not exhaust its descriptors:\n%s\n%s", output.String(), stderr.String())
	}
	result := make(chan error, 1)
	go func() { result <- do(url) }()
	if _, ok := await("accepting a connection failed"); !ok {
		t.Fatalf("the server did not report a failed accept while out of descriptors:\n%s\n%s", output.String(), stderr.String())
	}
	if _, err := io.WriteString(stdin, "FREE\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("request once descriptors were free again: %v\n%s", err, output.String())
		}
	case <-time.After(exhaustionBound):
		t.Fatalf("the server did not serve again once descriptors were free:\n%s", output.String())
	}
	if _, ok := await("accepting connections again"); !ok {
		t.Errorf("the server did not report its recovery:\n%s", output.String())
	}
	t.Logf("child output:\n%s", output.String())
	done = true
}

// exhaustionChild is the child's side: serve, fill the descriptors, free
// them when told, and stay until the parent closes stdin.
func exhaustionChild(t *testing.T, start func(t testing.TB, logger *slog.Logger) string) {
	logger := slog.New(slog.NewTextHandler(os.Stdout, nil))
	url := start(t, logger)
	fmt.Printf("URL %s\n", url)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = min(fdLimit, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var fillers []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		fillers = append(fillers, f)
	}
	fmt.Println("FULL")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "FREE" {
	}
	for _, f := range fillers {
		f.Close()
	}
	fmt.Println("FREED")
	for in.Scan() { // until the parent is done
	}
}
