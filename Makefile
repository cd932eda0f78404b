# Creditline. `make run` serves the portal with demo data; `make test` runs every test.
# Both first run .ci/setup, which installs what is missing (nothing, quickly, when all is there).
SHELL := /bin/bash
# --prefer-offline: once cached, npx does not ask the registry again (and works offline).
TAILWIND := npx --yes --prefer-offline tailwindcss@3.4.19
GO ?= go
export GO
# Fuzz time per target: `make test` fuzzes each Fuzz* target briefly, `make fuzz` longer.
FUZZTIME ?= 2m
TEST_FUZZTIME ?= 3s

.PHONY: run test generate templ css check-generated vet build bench bench-scale fuzz bench-pages bench-simulate setup-run setup-test

# Only what `portal dev` needs: PostgreSQL binaries, unless DATABASE_URL is set.
setup-run:
	@bash .ci/setup run

# PostgreSQL binaries, chromium, nodejs+npm, git, make, stripe-mock, axe-core.
setup-test:
	@bash .ci/setup test

run: setup-run
	$(GO) run ./cmd/portal dev

build:
	$(GO) build -o bin/portal ./cmd/portal

test: setup-test vet
	$(GO) test -count=1 -timeout 15m ./...
	@bash .ci/fuzz $(TEST_FUZZTIME)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

generate: templ css

templ:
	$(GO) tool templ generate -path views

css:
	$(TAILWIND) -c tailwind.config.js -i static/src/app.css -o static/app.css --minify

# Fails when the committed templ output or built CSS is stale: the same go test that
# `go test ./...` runs (views/generated_test.go).
check-generated: setup-test
	$(GO) test -count=1 -run 'TestTemplOutputIsFresh|TestCSSIsFresh' ./views/

# Every Fuzz* target of the module (found by `go test -list`), FUZZTIME each (default 2m).
fuzz:
	@bash .ci/fuzz $(FUZZTIME)

# Debit throughput: portal serve on a fresh database, load generator, pgbench baseline.
# BENCH_FLAGS e.g. "-d 20s -rate 8000".
bench:
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

# The spread scenario and its pgbench baseline over 1,000, 100,000 and 1,000,000 accounts (a
# fresh server and bulk-loaded database per count), printed side by side. Takes a while.
bench-scale:
	$(GO) run ./cmd/bench -only spread,baseline -accounts $${ACCOUNTS:-1000,100000,1000000} $(BENCH_FLAGS)

# Dashboard render times on an account with 1,000,000 usage events, on a database of its own
# (created and dropped): prints the bulk seed time and p50/p95 per page. Not part of `make test`.
bench-pages:
	$(GO) run ./cmd/pagebench -n $${N:-1000000} -requests $${REQUESTS:-50}

# The price book impact simulation over N events (1M by default).
bench-simulate:
	$(GO) run ./cmd/pagebench -n $${N:-1000000} -simulate -verify=false
