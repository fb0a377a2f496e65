# Automator: the set-up and the everyday commands. `make help` lists them.

SWIFT ?= swift
# Debian packages the build needs: Lua 5.4 (library and the stock interpreter the tests compare
# against), libedit for the REPL, SQLite for the store, zlib for evidence bundles zipped again
# with compression, pkg-config.
DEBIAN_PACKAGES := liblua5.4-dev lua5.4 libedit-dev libsqlite3-dev zlib1g-dev pkg-config
# And the tests: Chromium opens the HTML report headless (a minute or two to install); the
# PostgreSQL store's tests start a private PostgreSQL server; gdb prints a hung test's stacks.
TEST_DEBIAN_PACKAGES := chromium postgresql gdb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The Swift driver leaves a folder in TMPDIR at each build, never removed (`TemporaryDirectory.*`,
# holding only `.keep-directory`): thousands in /tmp after a few weeks of work. Ours stay under
# .build, which `make clean` removes.
SWIFT_BUILD = mkdir -p $(CURDIR)/.build/tmp && TMPDIR=$(CURDIR)/.build/tmp $(SWIFT) build
# The demo: the phishing playbook on an example incident, with the example configuration's feeds
# (the verdicts), and the answers of its two tasks.
DEMO_PLAYBOOK ?= scripts/playbooks/phishing.lua
DEMO_INCIDENT ?= scripts/examples/incidents/phishing.json
DEMO_CONFIG ?= scripts/examples/automator.yml
DEMO_ANSWERS ?= phishing\n3 copies removed\n

.PHONY: help deps test-deps build demo test bench clean

help:
	@echo "make demo    install what is missing, build, run $(DEMO_PLAYBOOK) on $(DEMO_INCIDENT)"
	@echo "make test    install what is missing, run every test"
	@echo "make bench   the benchmarks of docs/BENCHMARKS.md (release build, a few minutes)"
	@echo "make deps    only install the Debian packages: $(DEBIAN_PACKAGES)"

# Installs the Debian packages of $(1) that are missing.
define install_missing
	@missing=""; \
	for package in $(1); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEBIAN_PACKAGES))

test-deps: deps
	$(call install_missing,$(TEST_DEBIAN_PACKAGES))

# The Swift runtime linked in: no dynamic loading of two dozen Swift libraries at each start
# (a few milliseconds on every `automator run`).
build: deps
	$(SWIFT_BUILD) -c release --static-swift-stdlib

demo: build
	printf '$(DEMO_ANSWERS)' | .build/release/automator run $(DEMO_PLAYBOOK) --incident $(DEMO_INCIDENT) --config $(DEMO_CONFIG)

# From PyPI for the tests: the STIX 2.1 validator the intel export is checked with, Synapse, the
# Matrix homeserver the bot is tested against, aiosmtpd, the SMTP server the e-mail action is
# tested against (the tests start both on loopback), and Prometheus's client, whose parser reads
# GET /metrics.
PYTHON_TEST_PACKAGES := stix2-validator matrix-synapse aiosmtpd prometheus-client

test: test-deps
	python3 -m pip install --quiet $(PYTHON_TEST_PACKAGES) 2>/dev/null \
	  || python3 -m pip install --quiet --break-system-packages $(PYTHON_TEST_PACKAGES)
	$(SWIFT_BUILD) --build-tests
	Tests/PatternHarness/run.sh
	# One test at a time: many tests hold a thread of Swift's small cooperative pool (a process
	# they wait for, a Lua run with a time limit), and in parallel on 2 cores the others starved
	# past their deadlines now and then. Serial takes about a minute and never flakes.
	# Under a watchdog: a test blocked outside Swift concurrency outlives its .timeLimit, and CI
	# would hang until its own timeout; the watchdog names it, prints its stacks and stops the run.
	python3 tools/test-watchdog.py -- $(SWIFT) test --skip-build --no-parallel

bench: build
	$(SWIFT_BUILD) -c release --package-path Benchmarks
	Benchmarks/.build/release/LuaHostBenchmarks --automator $(CURDIR)/.build/release/automator
	Benchmarks/.build/release/SchedulerBenchmarks
	Benchmarks/.build/release/StoreBenchmarks
	Benchmarks/.build/release/IncidentBenchmark
	Benchmarks/.build/release/JournalBenchmark
	Benchmarks/.build/release/ReportBenchmark
	pip install --quiet iocextract ioc-finder
	Benchmarks/.build/release/ExtractionBenchmark
	Benchmarks/.build/release/FeedBenchmark
	Benchmarks/.build/release/ChatBenchmark --automator $(CURDIR)/.build/release/automator --scripts $(CURDIR)/scripts
	Benchmarks/.build/release/ActionBenchmark
	url=$$(Benchmarks/postgres-server.sh start) && \
	  Benchmarks/.build/release/SharedStoreBenchmark --store "$$url" && \
	  Benchmarks/.build/release/SharedServeBenchmark --automator $(CURDIR)/.build/release/automator --store "$$url" && \
	  Benchmarks/evidence-memory.sh $(CURDIR)/.build/release/automator "$$url"; \
	  status=$$?; Benchmarks/postgres-server.sh stop; exit $$status

clean:
	rm -rf .build Benchmarks/.build
