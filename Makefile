# peernet_go — the two commands a new machine needs:
#   make demo   build, install what is missing, run the loop on embedded defaults
#   make test   the whole suite
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
export CGO_ENABLED := 1
GO      ?= go
BIN     := bin/peernet
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# The suite's time limit per package; CI must finish in 20 minutes on 2 cores.
TEST_TIMEOUT ?= 12m

.PHONY: all build demo test deps test-deps models vet fuzz bench bindings clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

build: deps
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./peernet_go/cmd/peernet

# ONNX Runtime and the demo models, into the user cache (never committed).
models:
	@scripts/fetch-onnxruntime
	@scripts/fetch-models

demo: build
	@scripts/fetch-onnxruntime >/dev/null && scripts/fetch-models >/dev/null || \
		echo "demo: ONNX Runtime or the models could not be fetched; using the dummy model"
	@scripts/demo $(BIN)

vet:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...

test: test-deps build models vet
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

# A short run of every fuzz target, beyond the committed corpora.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
