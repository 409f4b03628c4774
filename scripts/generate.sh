#!/usr/bin/env bash
# generate.sh regenerates every generated file in the repository with buf, using the tools that
# scripts/tools.sh installs into .tools/ (it runs it first), so the output depends only on the
# pinned tool versions and the working tree. .ci/gencheck.sh runs it and fails on any difference.
set -euo pipefail

# Proto roots, relative to the repository root. Add your module's root here. A root either
#   - holds a generate.sh of its own, which is run (with .tools/bin first on PATH) instead of
#     the templates, for inputs buf cannot find by itself, such as protos in the module cache; or
#   - holds a buf.yaml and one or more buf.gen*.yaml templates: buf generate runs every template
#     from inside the root, so the `out` paths in a template are relative to the root.
ROOTS=(
	codegen/internal/testdata # test protos → codegen/compiletest/gen and gensame
	conformance # the conformance suite's protos, from the module cache (conformance/generate.sh) → conformance/internal/gen
	examples/proto # the Eliza service of the quick start → examples/gen
	examples/web # the Eliza service for connect-web and connect-node, protoc-gen-es from npm (examples/web/generate.sh) → examples/web/gen
	conformance/grpcproto # gRPC interop protos (grpc.testing), from grpc-go's compiled descriptors → conformance/internal/grpctesting
	bench/proto # the benchmark service → bench/gen (protoc-gen-connect-go and protoc-gen-go-grpc via bench/go.mod tool lines)
	health/proto # grpc.health.v1 (health/proto/generate.sh: scripts/generate-grpc-std.sh) → health/internal/healthv1
	reflection/proto # grpc.reflection.v1 and v1alpha (same way) → reflection/internal/reflectionv1, reflectionv1alpha
	interop/proto # the ping service the reflection interop tests discover → interop/internal/gen
	interceptors/validate/internal/testproto # validate interceptor's test protos, importing buf/validate from protovalidate's Go package (generate.sh there) → interceptors/validate/internal/gen
	transcode/internal/testproto # transcode's annotated test service, importing google/api from genproto's Go packages (scripts/generate-annotated.sh) → transcode/internal/gen
	interop/transcodeproto # the same service with grpc-go's and grpc-gateway's plugins → interop/internal/gen/transcodetest
	bench/restproto # the same again → bench/gen/transcodetest, for the REST bench rows
	examples/restproto # the bookstore of examples/cmd/rest, annotated for REST (scripts/generate-annotated.sh) → examples/gen/bookstore
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/tools.sh
export PATH="$root/.tools/bin:$PATH"

for dir in "${ROOTS[@]}"; do
	if [[ -f "$dir/generate.sh" ]]; then
		echo "generate.sh: $dir/generate.sh" >&2
		bash "$dir/generate.sh"
		continue
	fi
	shopt -s nullglob
	templates=("$dir"/buf.gen*.yaml)
	shopt -u nullglob
	if [[ ${#templates[@]} == 0 ]]; then
		echo "generate.sh: $dir has neither a generate.sh nor a buf.gen*.yaml" >&2
		exit 1
	fi
	for template in "${templates[@]}"; do
		echo "generate.sh: buf generate $template" >&2
		(cd "$dir" && buf generate --template "$(basename "$template")")
	done
done

# codegen's golden tests run the generator in-process on a descriptor set of its test protos and
# compare the output with golden files: rebuild both.
echo "generate.sh: codegen test descriptors and golden files" >&2
buf build codegen/internal/testdata --as-file-descriptor-set -o codegen/internal/testdata/descriptors.binpb
(cd codegen && GOWORK=off go test ./internal/generator -run '^TestGolden$' -count=1 -update >/dev/null)
