# The repository's task runner: every target calls a script in scripts/ or the go command, so
# what CI runs (.ci/run = scripts/test.sh) and what a developer runs are the same commands.
#
#   make test                 everything CI runs (installs the tools the tests need)
#   make quick                every module's checks and tests only
#   make test-MODULE          one module's checks and tests, e.g. make test-protocol,
#                             make test-transport-nethttp (folder names; / becomes -)
#   make conformance          the Connect conformance suite
#   make grpc-interop         grpc-go's interop client and server against ours
#   make generate gencheck    regenerate code; fail if the committed code is stale
#   make release-check        each product module installs alone at rpc.Version
#   make release VERSION=v0.2.0   bump sibling requirements and rpc.Version, print the tags
#   make bench                the side-by-side benchmarks (bench/run.sh)
#   make demo                 the quick-start demo

SHELL := bash
MODULES := $(shell . scripts/modules.sh && all_modules)

.PHONY: test quick conformance grpc-interop generate gencheck release-check release bench demo $(addprefix test-,$(subst /,-,$(MODULES)))

test:
	bash scripts/test.sh

quick:
	QUICK=1 bash scripts/test.sh

conformance:
	bash conformance/run.sh

grpc-interop:
	bash conformance/grpc-interop.sh

generate:
	bash scripts/generate.sh

gencheck:
	bash .ci/gencheck.sh

release-check:
	bash scripts/release-check.sh

release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=v0.2.0"; exit 2; }
	bash scripts/release.sh $(VERSION)

bench:
	bash bench/run.sh

demo:
	go run ./examples/cmd/demo

# test-FOLDER: gofmt, go mod tidy -diff, go vet and the tests (-race) of one module, on its own.
define module_rule
test-$(subst /,-,$(1)):
	cd $(1) && test -z "$$$$(gofmt -l .)" && GOWORK=off go mod tidy -diff && GOWORK=off go vet ./... && GOWORK=off go test -race -count=1 ./...
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))
