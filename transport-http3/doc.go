// Package h3 is polyconnect's HTTP/3 transport on quic-go (work in progress; see issue 10).
package h3
