// Package reflection serves gRPC server reflection (work in progress; see issue 12).
package reflection
