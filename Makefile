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
.PHONY: bench bisect-check check deps series-lint host-tests base tree checkpatch \
	review-selftest kernels guest boot selftest liburing liburing-compare report \
	check-liburing check-naive clean distclean

KERNELS := baseline patched
CONFIG_SET := test

# Cheap checks first: the patch text, the harness's own tests, then the
# series applied three ways and checkpatch, before any kernel is built;
# liburing's suite, the longest, last.
STAGES := deps series-lint host-tests base tree checkpatch review-selftest \
	kernels guest boot selftest liburing liburing-compare

# Every stage, then the count. A stage that stops the run counts as a
# failure, so the last line is always "N passed, N failed, N skipped".
check:
	@rm -rf build/results
	@$(MAKE) --no-print-directory $(STAGES) || { mkdir -p build/results; \
		printf 'TAP version 13\n1..1\nnot ok 1 make_check.stages # a stage stopped the run: see its ERROR line above\n' \
		>build/results/stopped.tap; }
	@ci/report.sh build/results

deps:
	ci/deps.sh

series-lint:
	ci/series-lint.sh

host-tests:
	ci/host-tests.sh

base:
	ci/base.sh

# Unpacks the base and applies the series with git am, quilt and b4.
tree:
	ci/tree.sh

checkpatch:
	ci/checkpatch.sh

review-selftest:
	ci/review-selftest.sh

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

# liburing's own test suite (Debian's source package, pinned in
# ci/liburing.env), built for the guest; then run on the baseline and the
# patched test kernel and compared per test (build/liburing-results/).
liburing:
	ci/liburing.sh

liburing-compare:
	ci/liburing-compare.sh

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

# The liburing stages alone, on the test kernels that `make check` built.
check-liburing: guest liburing liburing-compare
