// Package h2 is polyconnect's HTTP/2 engine built for RPC (work in progress; see issue 15).
package h2
