# ProConnect Box firmware. `make help` lists the targets.
SHELL       := /bin/bash
GO          ?= go
BOXFW_CACHE ?= $(HOME)/.cache/boxfw
export BOXFW_CACHE

.DEFAULT_GOAL := help
.PHONY: help deps testservers build build-arm64 test bench lint demo clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages (FFmpeg dev libraries, ffmpeg CLI); idempotent
	@bash scripts/deps.sh

testservers: ## build MinIO and mediamtx from the Go module proxy into $(BOXFW_CACHE)/bin
	@bash scripts/testservers.sh

build: deps ## build boxd, cloudsim, camsim and the demo into bin/
	$(GO) build -o bin/ ./cmd/...

build-arm64: deps ## cross-build boxd for arm64 boxes into bin/arm64 and smoke-test it under qemu
	@bash scripts/build-arm64.sh

test: deps testservers ## unit + integration tests against real servers, with -race
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 40m ./...

bench: deps testservers build ## side-by-side benchmarks (ratios against ffmpeg, dd, aws cli, mediamtx)
	@bash scripts/deps.sh awscli time
	@bash bench/run.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: deps build ## run the whole system end to end on loopback (DEMO_SECONDS=90)
	./bin/demo

clean: ## remove build outputs (not the cache)
	rm -rf bin
