package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one call in the table.
type row struct {
	transport, http, protocol, method string
	err                               error
	latency                           time.Duration
	detail                            string // what came back, when it worked
}

// table collects rows and prints them aligned.
type table struct{ rows []row }

func (t *table) add(rows ...row) { t.rows = append(t.rows, rows...) }

// failed counts the rows whose call failed.
func (t *table) failed() int {
	n := 0
	for _, r := range t.rows {
		if r.err != nil {
			n++
		}
	}
	return n
}

// detailWidth keeps each line of the table readable in a terminal.
const detailWidth = 64

// print writes the table and a summary line, and returns an error naming
// the failures if there are any.
func (t *table) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRANSPORT\tHTTP\tPROTOCOL\tMETHOD\tRESULT\tLATENCY\tDETAIL")
	for _, r := range t.rows {
		result, detail := "ok", r.detail
		if r.err != nil {
			result, detail = "FAILED", oneLine(r.err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.transport, or(r.http, "-"), r.protocol, r.method,
			result, round(r.latency), truncate(detail, detailWidth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if n := t.failed(); n > 0 {
		// The table cuts long errors: here they are whole.
		fmt.Fprintln(w, "Failed calls:")
		for _, r := range t.rows {
			if r.err != nil {
				fmt.Fprintf(w, "  %s %s %s: %s\n", r.transport, r.protocol, r.method, oneLine(r.err))
			}
		}
		fmt.Fprintln(w)
		return fmt.Errorf("%d of %d calls failed", n, len(t.rows))
	}
	fmt.Fprintf(w, "all %d calls succeeded\n", len(t.rows))
	return nil
}

// round keeps two or three significant digits of a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// oneLine is an error's message on a single line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
