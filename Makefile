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
# The linter, pinned; go run builds it once into the build cache.
GOLANGCI_LINT := $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.PHONY: all build demo test deps test-deps models vet lint tidy-check fuzz soak bench report-screenshot bindings ros-msgs test-ros bench-ros check-test-ros ros-go-test ros-go-bench clean

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
	cd peernet_go/ros2 && $(GO) vet ./...

# golangci-lint with .golangci.yml, on the core module.
lint:
	$(GOLANGCI_LINT) run ./...

# go.mod and go.sum of both modules are what go mod tidy would make them.
tidy-check:
	@$(GO) mod tidy -diff || { echo "tidy-check: run go mod tidy"; exit 1; }
	@cd peernet_go/ros2 && GONOSUMDB=github.com/tiiuae/rclgo $(GO) mod tidy -diff || \
		{ echo "tidy-check: run go mod tidy in peernet_go/ros2"; exit 1; }

test: test-deps build models vet lint tidy-check
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory test-ros

# A short run of every fuzz target, beyond the committed corpora;
# FUZZTIME per target.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# The fault soak at length (the suite runs it for 60 s): SOAK_S seconds,
# figures in results/soak/soak.json. As root it also takes the lab link down.
SOAK_S ?= 600
soak: build
	PEERNET_SOAK_S=$(SOAK_S) PEERNET_SOAK_DIR=$(CURDIR)/results/soak \
		$(GO) test -run '^TestSoak$$' -v -timeout $$(( $(SOAK_S) + 300 ))s ./peernet_go/cmd/peernet/

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The README's picture of a report: two bench runs, 1 KiB and 256 KiB
# samples, compared, drawn by headless chromium.
SHOT := peernet_go/report/view/screenshot.png
report-screenshot: build
	rm -rf /tmp/peernet-shot && mkdir -p /tmp/peernet-shot
	$(BIN) bench --iterations 2000 --sensor-size 1024 --model-name dummy:infer=1ms --quiet --result-loc /tmp/peernet-shot/1KiB
	$(BIN) bench --iterations 2000 --sensor-size 262144 --model-name dummy:infer=1ms --quiet --result-loc /tmp/peernet-shot/256KiB
	$(BIN) report /tmp/peernet-shot/1KiB /tmp/peernet-shot/256KiB -o /tmp/peernet-shot/report.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=940,1000 \
		--screenshot=$(CURDIR)/$(SHOT) file:///tmp/peernet-shot/report.html 2>/dev/null

clean:
	rm -rf bin

# --- ROS 2 (optional; colcon builds the nodes, see CMakeLists.txt) ---------
# Both targets need a sourced ROS 2 Humble. They build msgs/ (peernet_msgs)
# into .cache/ros2 first, so that no workspace is needed.
#   make bindings   regenerate the rclgo bindings in peernet_go/ros2/rosgen
#   make test-ros   the ROS-tagged tests of peernet_go/ros2 (skipped, with a
#                   message, when no ROS 2 is sourced)
#   make check-test-ros   test-ros twice from a clean .cache/ros2
ROS_CACHE   := $(CURDIR)/.cache/ros2
ROS_MSGS    := $(ROS_CACHE)/install
ROS_PREFIXES = $(ROS_MSGS) $(subst :, ,$(AMENT_PREFIX_PATH))
ROS_GO_ENV   = CGO_ENABLED=1 GONOSUMDB=github.com/tiiuae/rclgo \
	CGO_CFLAGS="$(foreach p,$(ROS_PREFIXES),$(addprefix -I,$(wildcard $(p)/include/*)))" \
	CGO_LDFLAGS="$(foreach p,$(ROS_PREFIXES),-L$(p)/lib -Wl,-rpath-link,$(p)/lib)" \
	AMENT_PREFIX_PATH="$(ROS_MSGS):$(AMENT_PREFIX_PATH)" \
	LD_LIBRARY_PATH="$(ROS_MSGS)/lib:$(LD_LIBRARY_PATH)" \
	PYTHONPATH="$(wildcard $(ROS_MSGS)/local/lib/python3*/dist-packages):$(PYTHONPATH)"
ROSGEN       := peernet_go/ros2/rosgen

ros-msgs:
	@test -n "$(AMENT_PREFIX_PATH)" || { echo "source a ROS 2 Humble first (e.g. source /opt/ros/humble/setup.bash)"; exit 1; }
	@mkdir -p $(ROS_CACHE) && cmake -S msgs -B $(ROS_CACHE)/build -DCMAKE_INSTALL_PREFIX=$(ROS_MSGS) -DBUILD_TESTING=OFF >$(ROS_CACHE).log 2>&1 && \
		cmake --build $(ROS_CACHE)/build --target install >>$(ROS_CACHE).log 2>&1 || \
		{ echo "building msgs/ failed: see $(ROS_CACHE).log"; exit 1; }

# rclgo-gen's output for peernet_msgs, statistics_msgs and their
# dependencies, with the machine's install paths taken out of the cgo lines
# (the build supplies them: CMakeLists.txt, ROS_GO_ENV) and the ros2 build
# tag added, so that the module builds without ROS.
bindings: ros-msgs
	rm -rf $(ROS_CACHE)/rosgen
	cd peernet_go/ros2 && ROS_DISTRO=$${ROS_DISTRO:-humble} GONOSUMDB=github.com/tiiuae/rclgo \
		$(GO) run github.com/tiiuae/rclgo/cmd/rclgo-gen generate -d $(ROS_CACHE)/rosgen \
		--message-module-prefix github.com/peernet/peernet_go/$(ROSGEN) \
		-r $(ROS_MSGS) -r "$(AMENT_PREFIX_PATH)" --cgo-flags-path "" \
		--include-package-deps peernet_msgs --include-package-deps statistics_msgs >/dev/null
	rm -f $(ROS_CACHE)/rosgen/msgs.gen.go
	for f in $$(find $(ROS_CACHE)/rosgen -name '*.gen.go'); do \
		{ printf '//go:build ros2\n\n'; sed '/^#cgo \(LDFLAGS\|CFLAGS\): "-[LI]/d' $$f | cat -s; } > $$f.tmp && mv $$f.tmp $$f; \
	done
	gofmt -w $(ROS_CACHE)/rosgen
	find $(ROSGEN) -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
	cp -r $(ROS_CACHE)/rosgen/. $(ROSGEN)/
	@echo "bindings: $$(find $(ROSGEN) -name '*.gen.go' | wc -l) files in $(ROSGEN)"

# The ros2 network against raw DDS round trips of the same messages.
# ROS_GO_ENV lists the include directories that exist, so every target
# that uses it runs in a make of its own, after msgs/ is built.
bench-ros: ros-msgs
	@$(MAKE) --no-print-directory ros-go-bench

test-ros:
	@if [ -z "$(AMENT_PREFIX_PATH)" ]; then \
		echo "test-ros: skipped: no sourced ROS 2 (AMENT_PREFIX_PATH is empty); source a ROS 2 Humble to run the ROS 2 tests"; \
	else \
		$(MAKE) --no-print-directory ros-msgs && $(MAKE) --no-print-directory ros-go-test; \
	fi

# test-ros from a clean .cache/ros2, twice: the first run must pass too.
check-test-ros:
	rm -rf $(ROS_CACHE) $(ROS_CACHE).log
	$(MAKE) --no-print-directory test-ros
	$(MAKE) --no-print-directory test-ros

ros-go-test:
	@cd peernet_go/ros2 && $(ROS_GO_ENV) $(GO) vet -tags ros2 ./... && \
		$(ROS_GO_ENV) $(GO) test -race -tags ros2 -timeout $(TEST_TIMEOUT) $(ROS_TEST_FLAGS) ./...

ros-go-bench:
	cd peernet_go/ros2 && $(ROS_GO_ENV) $(GO) test -tags ros2 -run '^$$' -bench . -benchtime 2000x ./...
