# cloudtap: `make demo` runs the stitcher on a generated local bucket, `make test` runs every test.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
DEMO_DIR ?= $(CURDIR)/demo-output
DEMO_FLOWS ?= 60

.PHONY: all deps tools peers k8s-tools fuzzer build lint test unit demo bench bench-smoke fuzz clean golden e2e-cluster chart-crds quiet-watch

all: build

# npm ci when the lock file changed since the last install (node_modules/.package-lock.json is npm's own stamp).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# System tools the tests judge captures with: tshark, tcpdump, Suricata 7 (Debian backports), iproute2.
tools:
	@bin/install-test-tools

# Store peers built once per version from the Go module proxy into ~/.cache/cloudtap (bin/store-peers.txt).
peers:
	@bin/install-store-peers

# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and Helm, built from their Go
# modules at pinned versions into ~/.cache/cloudtap/k8s/ (once; reused while the versions are unchanged).
k8s-tools:
	@bin/install-k8s-tools

# Jazzer.js with a libFuzzer addon built against Debian's libFuzzer, into ~/.cache/cloudtap/jazzer/ (once).
fuzzer:
	@bin/install-fuzzer

# bin/node-runtime refuses a Node.js older than 22.19 in one line (on Linux x64 the bundled Node 24 is first on PATH).
build: deps
	@bin/node-runtime >/dev/null
	tsc -p tsconfig.json

lint: deps
	eslint .

# Without Jazzer.js (no root for apt, no g++) the fuzz tests run a randomized fast-check loop and say so.
test: tools peers k8s-tools build lint
	@bin/install-fuzzer || echo "make test: Jazzer.js not installed: the fuzz targets run under fast-check, not coverage-guided"
	mocha

# Rewrites test/golden/ from the operator's output after an intended change (tests only read them).
golden: build
	node dist/test/operator/specs/golden-update.js

# The chart's CRD templates (charts/cloudtap/templates/crds/) from crds/, after a change there; test/operator/chart.test.ts
# fails while they differ.
chart-crds:
	@bin/chart-crds

# The operator, the chart and the stitcher end to end on a real control plane, alone.
e2e-cluster: tools k8s-tools build
	mocha --no-config --require dist/test/cluster/hooks.js --timeout 600000 --enable-source-maps --exit 'dist/test/cluster/**/*.test.js'

# The watch test of e2e-cluster over ten minutes of quiet (CI runs 40 s): the operator's LISTs, counted in the
# apiserver's audit log by its identity, must stay 0. QUIET_SECONDS to change the period.
QUIET_SECONDS ?= 600
quiet-watch: tools k8s-tools build
	CLOUDTAP_QUIET_SECONDS=$(QUIET_SECONDS) mocha --no-config --require dist/test/cluster/hooks.js --timeout 0 --enable-source-maps --exit dist/test/cluster/watch.test.js

demo: build
	@bin/demo "$(DEMO_DIR)" "$(DEMO_FLOWS)"

# BENCH_BYTES (default 1G) and the other BENCH_* knobs: see bench/run.ts. Needs root for the veth pair (else that row says skipped).
bench: build peers
	node --expose-gc dist/bench/run.js

# Each fuzz target (CTAP reader, key log parser, flow table) for FUZZ_SECONDS after its corpus, under Jazzer.js
# (coverage-guided); findings land in test/fuzz/findings/. See test/fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz: build fuzzer
	FUZZ_SECONDS=$(FUZZ_SECONDS) node dist/test/fuzz/run.js

# Every row of the bench at small sizes (about a minute): checks the harness, not the numbers.
bench-smoke: build peers
	BENCH_BYTES=8M BENCH_RUNS=1 BENCH_LATENCY_OBJECTS=20 BENCH_FLOWS=10000 BENCH_CHECKPOINTS=0 node --expose-gc dist/bench/run.js

clean:
	rm -rf dist .build demo-output
