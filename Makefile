# Async direct I/O completion series: build, boot and test harness.
#   make check          install deps, fetch the base, build baseline + patched,
#                       boot each in QEMU (NVMe, virtio-blk) and run the tests
#   make bench          the baseline / patched / raw benchmark (QUICK=1: the
#                       short one); results in bench/results/<date>-<accel>/
#   make bisect-check   every prefix of the series builds
#   make check-naive    the deadlock tests fail on the naive caller-completion
#                       design (series + tests/naive/), as they must
SHELL := /bin/bash
.NOTPARALLEL:
.PHONY: bench bisect-check check deps host-tests base tree kernels guest boot \
	selftest report check-naive clean distclean

KERNELS := baseline patched
CONFIG_SET := test

check: deps host-tests base tree kernels guest boot selftest report

deps:
	ci/deps.sh

host-tests:
	ci/host-tests.sh

base:
	ci/base.sh

tree:
	ci/tree.sh

kernels:
	@for k in $(KERNELS); do ci/config.sh $$k $(CONFIG_SET) && ci/build.sh $$k $(CONFIG_SET) || exit 1; done

guest:
	ci/guest.sh

# A guest that fails to boot or hangs is reported by collect as failed runs,
# so the other kernel still runs and the report shows everything.
boot:
	@for k in $(KERNELS); do ci/boot.sh $$k $(CONFIG_SET) || true; ci/collect.sh $$k $(CONFIG_SET) || exit 1; done

selftest:
	ci/selftest.sh

report:
	ci/report.sh build/results

# Not part of check: one kernel build per patch.
bisect-check: deps base tree
	ci/bisect-check.sh

# Not part of check: ~10 minutes, the naive guest deadlocks by design.
check-naive: deps base tree guest
	ci/naive.sh

# The harness stages with the bench config set (no lockdep), then the boots.
QUICK ?= 0
bench: deps base tree
	@$(MAKE) --no-print-directory kernels CONFIG_SET=bench
	@$(MAKE) --no-print-directory guest
	QUICK=$(QUICK) bench/run.sh

clean:
	rm -rf build/results build/selftest build/guest

distclean:
	rm -rf build
