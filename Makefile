# The repository's task runner: every target calls a script in scripts/ or the go command, so
# what CI runs (.ci/run = scripts/test.sh) and what a developer runs are the same commands.
# `make` alone prints the targets (make help); the `## ` comment after a target is its line there.

SHELL := bash
MODULES := $(shell . scripts/modules.sh && all_modules)

.DEFAULT_GOAL := help
.PHONY: help test quick conformance grpc-interop generate gencheck release-check release bench chart demo goproxy walkthrough busy \
	$(addprefix test-,$(subst /,-,$(MODULES)))

help: ## print the targets (what `make` alone does)
	@echo "make TARGET, where TARGET is one of:"
	@sed -n 's/^\([a-z][a-z-]*\):.*## \(.*\)$$/\1\t\2/p' $(MAKEFILE_LIST) | \
		while IFS=$$'\t' read -r name text; do printf '  %-15s %s\n' "$$name" "$$text"; done
	@echo "  test-MODULE     one module's gofmt, go mod tidy -diff, go vet and tests (-race), e.g."
	@echo "                  make test-protocol, make test-transport-nethttp (folder, / becomes -):"
	@echo "$(addprefix test-,$(subst /,-,$(MODULES)))" | fold -s -w 78 | sed 's/ *$$//; s/^/                  /'

test: ## everything CI runs, 10-40 minutes (installs the tools the tests need)
	bash scripts/test.sh

quick: ## every module's checks and tests only (no suites)
	QUICK=1 bash scripts/test.sh

conformance: ## the Connect conformance suite
	bash conformance/run.sh

grpc-interop: ## grpc-go's interop client and server against ours
	bash conformance/grpc-interop.sh

generate: ## regenerate the committed generated code
	bash scripts/generate.sh

gencheck: ## fail if the committed generated code is stale
	bash .ci/gencheck.sh

release-check: ## each product module installs alone at rpc.Version
	bash scripts/release-check.sh

release: ## make release VERSION=v0.2.0: bump sibling requirements and rpc.Version, print the tags
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=v0.2.0"; exit 2; }
	bash scripts/release.sh $(VERSION)

bench: ## the side-by-side benchmarks (bench/run.sh; slow, wants a quiet machine)
	bash bench/run.sh

chart: ## make chart RESULTS=bench/results/DIR [TRANSPORTS=h2c,h2c-rpc]: DIR/chart.svg from its raw.txt
	@test -n "$(RESULTS)" || { echo "usage: make chart RESULTS=bench/results/DIR [TRANSPORTS=h2c,h2c-rpc]"; exit 2; }
	cd bench && GOWORK=off go run ./cmd/benchtable -chart "$(abspath $(RESULTS))/chart.svg" $(if $(TRANSPORTS),-transports "$(TRANSPORTS)") "$(abspath $(RESULTS))/raw.txt"

demo: ## Eliza on every transport, called every way (the quick start's first command)
	go run ./examples/cmd/eliza

goproxy: ## serve this clone's modules as a local module proxy; prints the exports to eval
	@bash scripts/goproxy.sh

walkthrough: ## the README's "Your first service", run as written in a temporary folder
	bash scripts/walkthrough.sh

busy: ## make busy [N=5]: unit tests and the conformance suite beside a CPU load of twice the cores, N rounds
	N=$(or $(N),5) bash scripts/busy.sh

# test-FOLDER: gofmt, go mod tidy -diff, go vet and the tests (-race) of one module, on its own.
define module_rule
test-$(subst /,-,$(1)):
	cd $(1) && test -z "$$$$(gofmt -l .)" && GOWORK=off go mod tidy -diff && GOWORK=off go vet ./... && GOWORK=off go test -race -count=1 ./...
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))
