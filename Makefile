# cloudtap: `make demo` runs the stitcher on a generated local bucket, `make test` runs every test.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
DEMO_DIR ?= $(CURDIR)/demo-output
DEMO_FLOWS ?= 60

.PHONY: all deps tools build lint test unit demo bench fuzz clean

all: build

# npm ci when the lock file changed since the last install (node_modules/.package-lock.json is npm's own stamp).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# System tools the tests judge captures with: tshark, tcpdump, Suricata 7 (Debian backports), iproute2.
tools:
	@bin/install-test-tools

build: deps
	tsc -p tsconfig.json

lint: deps
	eslint .

test: tools build lint
	mocha

demo: build
	@bin/demo "$(DEMO_DIR)" "$(DEMO_FLOWS)"

bench: build
	node --expose-gc dist/bench/run.js

# Each fuzz target (CTAP reader, key log parser, flow table) for FUZZ_SECONDS after its corpus; see test/fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz: build
	FUZZ_SECONDS=$(FUZZ_SECONDS) node dist/test/fuzz/run.js

clean:
	rm -rf dist .build demo-output
