// Package health serves the standard gRPC health-checking service,
// grpc.health.v1.Health, so that load balancers, Kubernetes gRPC probes,
// grpc-health-probe and any gRPC, gRPC-Web or Connect client can ask whether
// a server and each of its services accept calls.
//
// A [Checker] holds the statuses; [NewHandler] serves it like a generated
// service:
//
//	checker := health.NewChecker() // the whole server ("") is SERVING
//	checker.SetStatus(greetv1rpc.GreetServiceName, health.StatusServing)
//	mux.Handle(health.NewHandler(checker))
//	// … when draining:
//	checker.Shutdown()
//
// The service has three methods. Check answers with the status of one
// service, or NOT_FOUND for a name the checker does not know. List answers
// with every status. Watch sends the status of one service at once and then
// each change, reporting SERVICE_UNKNOWN while the checker does not know the
// name, until the client goes away or [Checker.Shutdown] is called.
//
// The service's descriptor stays out of protobuf's global registry (see
// [FileDescriptor]), so a program may link this package and grpc-go's
// health package together.
package health
