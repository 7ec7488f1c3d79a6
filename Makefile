# weft: build, run, test and benchmark. Every target that needs system packages installs them first.
SWIFT      ?= swift
BIN        := .build/debug
RELEASE    := .build/release
# Debian packages the build and the tests need; `deps` installs only those missing.
APT_PACKAGES := libmnl-dev pkg-config iproute2 util-linux serf

.PHONY: deps build release run test bench fuzz clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Debian's serf package ships serf.service (an agent on 0.0.0.0:7946); the interop tests start their own agents
	@# on loopback, so never leave that unit enabled or running.
	@if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled serf.service >/dev/null 2>&1; then \
	  systemctl disable --now serf.service >/dev/null 2>&1 || true; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: build
	$(BIN)/weft --help
	$(BIN)/weft netlink scenario --dry-run

# Kernel tests need root; WEFT_REQUIRE_ROOT_TESTS makes them fail rather than skip when it is missing.
test: deps
	$(SWIFT) build --build-tests
	WEFT_REQUIRE_ROOT_TESTS=1 $(SWIFT) test --skip-build

bench: deps release
	$(RELEASE)/weft-bench netlink
	$(RELEASE)/weft-bench gossip 50

# libFuzzer over the gossip wire decoders for FUZZ_SECONDS (default 30). The fuzz target exists only with
# WEFT_FUZZ=1 and links only with the fuzzer sanitizer, so it is built in its own scratch path; the corpus grows
# in fuzz-corpus/ from the seeds in Fuzz/seeds-gossip, and crashing inputs land in fuzz-corpus/artifacts/.
FUZZ_SECONDS ?= 30
FUZZ_BUILD   := .build-fuzz

fuzz: deps
	WEFT_FUZZ=1 $(SWIFT) build --product weft-fuzz-gossip --sanitize=fuzzer --sanitize=address \
	  --disable-dead-strip --scratch-path $(FUZZ_BUILD)
	mkdir -p fuzz-corpus/gossip fuzz-corpus/artifacts
	SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/debug/weft-fuzz-gossip -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=fuzz-corpus/artifacts/ fuzz-corpus/gossip Fuzz/seeds-gossip

clean:
	rm -rf .build $(FUZZ_BUILD)
