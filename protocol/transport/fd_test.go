//go:build unix

package transport_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/protocol/transport/transporttest"
)

// TestKeepAcceptingSurvivesDescriptorExhaustion runs net/http's server on
// a KeepAccepting listener through descriptor exhaustion.
func TestKeepAcceptingSurvivesDescriptorExhaustion(t *testing.T) {
	transporttest.DescriptorExhaustion(t, func(t testing.TB, logger *slog.Logger) string {
		ln, err := transport.Listen("test server", "127.0.0.1:0", logger)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return "http://" + ln.Addr().String()
	}, func(url string) error {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Get(url)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, err = io.ReadAll(res.Body)
		return err
	})
}
