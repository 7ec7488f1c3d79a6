# weft: build, run, test and benchmark. Every target that needs system packages installs them first.
SWIFT      ?= swift
BIN        := .build/debug
RELEASE    := .build/release
# Debian packages the build and the tests need; `deps` installs only those missing.
# docker.io, busybox-static and iptables are for the end-to-end tests (real engines in namespaces; busybox is
# the container image and the ping between simulated hosts); iputils-ping for the kernel tests' pings;
# serf for the gossip interoperation tests; curl asks the managed plugin's socket in the swarm test; binutils
# strips the plugin's binary; iperf3 for the datapath benchmark (copied into a test image); docker-compose brings up
# examples/compose in its test; nftables: weft's service VIPs (nft, also copied into the managed plugin, as are
# wireguard-go and ip for encrypted networks); wireguard-tools' wg reads weft-wg in the tests. The end-to-end tests
# also use iptables' ebtables-nft to cut a simulated host off the underlay.
APT_PACKAGES := libmnl-dev pkg-config iproute2 util-linux iputils-ping docker.io busybox-static iptables serf curl binutils iperf3 docker-compose wireguard-go wireguard-tools nftables prometheus tcpdump

.PHONY: deps build release run test bench demo fuzz plugin plugin-dir clean

# Installing docker.io would start the system dockerd (its postinst runs `invoke-rc.d docker start`; without
# systemd that is /etc/init.d/docker) and, under systemd, enable docker.service, docker.socket and containerd.
# The tests run their own engines and must not meet a system one, so the install runs behind a policy-rc.d
# that refuses every service start (unless the machine already has one), and on a systemd machine the units
# this install brought are disabled and stopped again.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
	    printf '#!/bin/sh\n# weft make deps: no service starts during apt-get install\nexit 101\n' > /usr/sbin/policy-rc.d; \
	    chmod 755 /usr/sbin/policy-rc.d; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
	  case " $$missing " in *" docker.io "*) \
	    if [ -d /run/systemd/system ]; then \
	      systemctl disable --now docker.socket docker.service containerd.service || true; \
	    fi;; \
	  esac; \
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

# Runs the daemon on /run/docker/plugins/weft.sock (root); WEFT_ARGS adds options, e.g. WEFT_ARGS=--dry-run.
run: build
	$(BIN)/weft daemon $(WEFT_ARGS)

# Kernel tests need root; WEFT_REQUIRE_ROOT_TESTS makes them fail rather than skip when it is missing.
# A short fuzz run of the gossip decoders first; then the tests. The end-to-end suites (real dockerd engines) run
# after the rest, not beside it: on two cores they would starve the gossip simulations, whose timings are scaled.
# The swarm test runs the managed plugin as shipped, so the plugin directory is built first (a release build in
# .build-plugin: minutes on a fresh clone, seconds once built).
# The end-to-end suites run one at a time: side by side on two cores (every simulated host a dockerd, and a swarm
# of three), they stretched each other's timings past their bounds (a failure test that takes 9 s alone took 66 s,
# a dockerd took over 60 s to answer). One at a time they take about 4 minutes, 1.5 more than side by side.
test: deps plugin-dir
	$(MAKE) fuzz FUZZ_SECONDS=20
	$(SWIFT) build --build-tests
	WEFT_REQUIRE_ROOT_TESTS=1 $(SWIFT) test --skip-build --skip EndToEndTests --skip SerfSoak
	WEFT_REQUIRE_ROOT_TESTS=1 $(SWIFT) test --skip-build --filter SerfSoak
	WEFT_REQUIRE_ROOT_TESTS=1 $(SWIFT) test --skip-build --no-parallel --filter EndToEndTests

# Benchmarks: each figure against a reference measured in the same run. The container-start benchmark, the
# overlay benchmarks (convergence, failure, datapath) and the swarm benchmarks (the managed plugin against
# Docker's built-in overlay: service convergence, datapath) use the end-to-end harness (real dockerd), so they run
# through the test runner, with the release weft, one at a time. The swarm benchmarks install the managed plugin,
# so its directory is built first, as for `make test`.
bench: deps release plugin-dir
	$(RELEASE)/weft-bench netlink
	$(RELEASE)/weft-bench control-plane
	$(RELEASE)/weft-bench gossip 50
	$(RELEASE)/weft-bench endpoint-churn
	$(SWIFT) build --build-tests
	WEFT_BENCH=1 WEFT_BINARY=$(CURDIR)/$(RELEASE)/weft $(SWIFT) test --skip-build --no-parallel --filter Benchmark

# Two simulated Docker hosts (the end-to-end harness: namespaces, a dockerd and a weft each), weft on each joined
# to the other, one network, a container on each, a ping across; prints every step and removes everything
# (examples/README.md). Needs root.
demo: deps
	$(SWIFT) build --build-tests
	WEFT_DEMO=1 $(SWIFT) test --skip-build --filter WeftDemo

# libFuzzer over the gossip wire decoders for FUZZ_SECONDS (default 30). The fuzz target exists only with
# WEFT_FUZZ=1 and links only with the fuzzer sanitizer, so it is built in its own scratch path; the corpus grows
# in fuzz-corpus/ from the seeds in Fuzz/seeds-gossip, and crashing inputs land in fuzz-corpus/artifacts/.
# libFuzzer's output goes to fuzz-corpus/fuzz-gossip.log; one summary line is printed (runs, coverage, crashes),
# and on a crash or any other failure the log's tail, and the target fails (so `make test` does).
FUZZ_SECONDS ?= 30
FUZZ_BUILD   := .build-fuzz

fuzz: deps
	WEFT_FUZZ=1 $(SWIFT) build --product weft-fuzz-gossip --sanitize=fuzzer --sanitize=address \
	  --disable-dead-strip --scratch-path $(FUZZ_BUILD)
	mkdir -p fuzz-corpus/gossip fuzz-corpus/artifacts
	@log=fuzz-corpus/fuzz-gossip.log; \
	SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/debug/weft-fuzz-gossip -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=fuzz-corpus/artifacts/ fuzz-corpus/gossip Fuzz/seeds-gossip > $$log 2>&1; \
	status=$$?; \
	runs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' $$log | tail -n 1); \
	cov=$$(grep -E '^#[0-9]+' $$log | tail -n 1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/coverage \1 edges, \2 features, corpus \3/p'); \
	crashes=$$(grep -c '^Test unit written to' $$log); \
	echo "fuzz gossip: $${runs:-no run summary}, $${cov:-no coverage line}, crashes $$crashes (exit $$status; full log $$log)"; \
	if [ $$status -ne 0 ] || [ $$crashes -ne 0 ]; then \
	  echo "--- last 60 lines of $$log:"; tail -n 60 $$log; exit 1; \
	fi

# The managed (v2) plugin: a release weft with the Swift standard library linked statically (its own scratch
# path, so the debug build's flags stay apart), a rootfs of the stripped binary and the libraries ldd names, and
# plugin-spec/config.json, in $(PLUGIN_DIR); then `docker plugin create $(PLUGIN_NAME)` if an engine answers
# (DOCKER_HOST=unix://… make plugin), otherwise it stops after the directory and says so.
PLUGIN_BUILD := .build-plugin
PLUGIN_DIR   := $(PLUGIN_BUILD)/plugin
PLUGIN_NAME  ?= weft:latest
# auto: create the plugin when an engine answers; no: only the directory (make test, whose engines create it).
PLUGIN_CREATE ?= auto

plugin: deps
	@start=$$(date +%s); \
	$(SWIFT) build -c release --static-swift-stdlib --product weft --scratch-path $(PLUGIN_BUILD) || exit 1; \
	echo "plugin: release build $$(( $$(date +%s) - start )) s"
	PLUGIN_CREATE=$(PLUGIN_CREATE) plugin-spec/build-plugin.sh $(PLUGIN_BUILD)/release/weft $(PLUGIN_DIR) $(PLUGIN_NAME)

plugin-dir:
	$(MAKE) plugin PLUGIN_CREATE=no

clean:
	rm -rf .build $(FUZZ_BUILD) $(PLUGIN_BUILD)
