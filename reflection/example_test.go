package reflection_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"polyconnect.dev/reflection"
)

// A server mounts both versions of the reflection service beside its own
// services, naming the services to list. grpcurl, buf curl and grpc-go's
// reflection client then find everything they need there.
func ExampleNewHandlerV1() {
	reflector := reflection.NewReflector([]string{
		"greet.v1.GreetService", // greetv1rpc.GreetServiceName in generated code
		reflection.ServiceNameV1,
	})
	mux := http.NewServeMux()
	mux.Handle(reflection.NewHandlerV1(reflector))
	mux.Handle(reflection.NewHandlerV1Alpha(reflector))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What a reflection client asks first, here by hand in the Connect
	// streaming protocol with JSON: one enveloped request, the services in the
	// first enveloped response.
	req := []byte(`{"listServices":""}`)
	body := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(req)))
	res, err := http.Post(srv.URL+"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"application/connect+json", bytes.NewReader(append(body, req...)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	var prefix [5]byte
	if _, err := io.ReadFull(res.Body, prefix[:]); err != nil {
		fmt.Println(err)
		return
	}
	msg := make([]byte, binary.BigEndian.Uint32(prefix[1:]))
	if _, err := io.ReadFull(res.Body, msg); err != nil {
		fmt.Println(err)
		return
	}
	var answer struct {
		ListServicesResponse struct{ Service []struct{ Name string } }
	}
	if err := json.Unmarshal(msg, &answer); err != nil {
		fmt.Println(err)
		return
	}
	for _, svc := range answer.ListServicesResponse.Service {
		fmt.Println(svc.Name)
	}
	// Output:
	// greet.v1.GreetService
	// grpc.reflection.v1.ServerReflection
}
