package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"

	"polyconnect.dev/transport-nethttp/certs"
)

// writeCerts writes a throw-away CA (ca.pem) and a server certificate and
// key (cert.pem, key.pem) for the given hosts into a directory, for a proxy
// under test.
func writeCerts(args []string) error {
	fs := flag.NewFlagSet("certs", flag.ExitOnError)
	dir := fs.String("dir", ".", "directory to write ca.pem, cert.pem and key.pem into")
	hosts := fs.String("host", "localhost,127.0.0.1", "comma-separated names and IPs the certificate is for")
	_ = fs.Parse(args)
	p, err := certs.NewTestPKI(strings.Split(*hosts, ",")...)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.pem": p.CAPEM, "cert.pem": p.ServerCertPEM, "key.pem": p.ServerKeyPEM} {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
