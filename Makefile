# Weft: make build | run | test | verify | bench
GO      ?= go
BIN     := bin
PKGS    := ./...
BINARIES := weftd weftctl weft-agent weft-proxy
# weft-demo serves the demo images of the agent's catalogue; it lives next to the binaries.
DEMO := ./examples/weft-demo

.PHONY: build run test verify bench bench-quick clean fuzz

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(BINARIES)) $(DEMO)

# The all-in-one control plane in the foreground, data in ./.weft.
run: build
	$(BIN)/weftd --data-dir .weft

# Every test: unit, integration and end-to-end, with the race detector.
test:
	$(GO) test -race -timeout 20m $(PKGS)

verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) mod tidy -diff

# Benchmarks; regenerates docs/BENCHMARKS.md.
bench:
	$(GO) run ./test/bench -out docs/BENCHMARKS.md

bench-quick:
	$(GO) run ./test/bench -quick -out docs/BENCHMARKS.md

# Runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
