# cutover — build and test entry points.
#
#   make test     install what the tests need (Debian packages), then vet and run every test;
#                 a test whose peer (unbound, moto_server, the aws CLI) is missing fails there,
#                 as in CI (a bare `go test ./...` skips it, with a message)
#   make build    build ./bin/cutover
#   make fuzz     run each fuzz target for FUZZTIME (default 30s)

GO        ?= go
FUZZTIME  ?= 30s
# Debian packages the test suite drives as real peers (unbound: the caching
# resolver between the lab DNS and clients; knot, knot-dnsutils: the RFC 2136
# provider's peer; etcd-server: the etcd store's 3-member cluster; chromium: the dashboard's browser test, which installs
# playwright-core with npm from its package-lock.json). The aws CLI,
# moto_server, Node.js and npm come preinstalled on the build machines; awscli,
# nodejs and npm are installed from Debian when absent.
DEB_PKGS  := ca-certificates unbound knot knot-dnsutils etcd-server chromium

.PHONY: test deps vet build fuzz

test: deps vet
	CUTOVER_REQUIRE_PEERS=1 $(GO) test -count=1 -timeout 20m ./...

deps:
	@./scripts/deps.sh $(DEB_PKGS)

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/cutover ./cmd/cutover

fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)
