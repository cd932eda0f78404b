# Creditline. `make run` serves the portal with demo data; `make test` runs every test.
SHELL := /bin/bash
TAILWIND := npx --yes tailwindcss@3.4.19
GO ?= go

.PHONY: run test generate templ css check-generated vet build bench fuzz bench-pages

run:
	$(GO) run ./cmd/portal dev

build:
	$(GO) build -o bin/portal ./cmd/portal

test: check-generated vet
	$(GO) test -count=1 -timeout 15m ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

generate: templ css

templ:
	$(GO) tool templ generate -path views

css:
	$(TAILWIND) -c tailwind.config.js -i static/src/app.css -o static/app.css --minify

# Fails when the committed templ output or built CSS is stale.
check-generated:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	cp -r views $$tmp/views; \
	$(GO) tool templ generate -path $$tmp/views >/dev/null 2>&1; \
	if ! diff -r -q views $$tmp/views >/dev/null; then diff -r views $$tmp/views | head -20; echo "templ output is stale: run 'make templ' and commit"; exit 1; fi; \
	$(TAILWIND) -c tailwind.config.js -i static/src/app.css -o $$tmp/app.css --minify >/dev/null 2>&1; \
	if ! cmp -s static/app.css $$tmp/app.css; then echo "static/app.css is stale: run 'make css' and commit"; exit 1; fi; \
	echo "generated files are fresh"

fuzz:
	$(GO) test ./billing -run '^$$' -fuzz FuzzCreditsRoundTrip -fuzztime 30s

# Debit throughput: portal serve on a fresh database, load generator, pgbench baseline.
# BENCH_FLAGS e.g. "-d 20s -rate 8000".
bench:
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

# Dashboard render times on an account with 1,000,000 usage events, on a database of its own
# (created and dropped): prints the bulk seed time and p50/p95 per page. Not part of `make test`.
bench-pages:
	$(GO) run ./cmd/pagebench -n $${N:-1000000} -requests $${REQUESTS:-50}
