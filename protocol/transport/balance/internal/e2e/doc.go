// Package e2e holds package balance's tests against real loopback servers,
// a loopback DNS server and package rpc. They live apart from balance so
// that balance's own tests import only the standard library: go mod tidy
// in every module that imports package transport (and so balance) would
// otherwise have to record protobuf's and compression's checksums.
package e2e
