# Async direct I/O completion series: build, boot and test harness.
#   make check          install deps, fetch the base, build baseline + patched,
#                       boot each in QEMU (NVMe, virtio-blk) and run the tests
#                       (SERIES=mainline, the default, or 6.1.y: the stack
#                       to run in full; the other gets lint, apply and
#                       checkpatch)
#   make bench          the baseline / patched / raw benchmark (QUICK=1: the
#                       short one); results in bench/results/<date>-<stack>-<accel>/
#   make bisect-check   every prefix of the series builds
#   make check-naive    the deadlock tests fail on the naive caller-completion
#                       design (series + tests/naive/STACK/), as they must
#   make check-mutants  each mutant of the series (tests/mutants/STACK/, one
#                       rule broken) is killed by the tests that guard it
#   make check-cold     .ci/run on a fresh clone with empty caches, timed
#   make check-warm     the same with this machine's caches
SHELL := /bin/bash
# The stack make check runs in full: mainline (series, patches/) or 6.1.y
# (patches/6.1.y/). On the other, check runs series-lint, base, tree (the
# series applied three ways) and checkpatch. The ci/ scripts read STACK.
SERIES ?= mainline
export STACK := $(SERIES)
OTHER := $(if $(filter mainline,$(SERIES)),6.1.y,mainline)
.PHONY: bench bisect-check check deps series-lint host-tests base tree checkpatch \
	review-selftest kernels kernel-baseline kernel-patched guest boot \
	boot-baseline boot-patched selftest liburing liburing-baseline \
	liburing-patched liburing-compare report check-liburing check-naive check-mutants \
	check-cold check-warm clean distclean

KERNELS := baseline patched
CONFIG_SET := test

# make check runs its stages two at a time (CI has two cores), each through
# ci/timed.sh, which logs its wall time for the stage table that the report
# prints before the count. The stage-* graph below orders them. Cheap checks
# first: the patch text, the harness's own tests, the series applied three
# ways and checkpatch, beside the baseline kernel's build. The two kernels
# share one source tree and build one after the other; the patched
# kernel's build (niced by ci/build.sh) runs beside the baseline's liburing
# boot, the longest boot. The other boots wait for the patched kernel, so
# that the build has the second core sooner; then the patched liburing boot
# runs beside the test boots and the harness self-test.
# A stage that fails stops the run once the stage beside it ends, and counts
# as a failure: the last line is always "N passed, N failed, N skipped".
check:
	@rm -rf build/results
	@mkdir -p build && date +%s >build/stage-times.tsv
	@$(MAKE) --no-print-directory -j2 stage-check || { mkdir -p build/results; \
		printf 'TAP version 13\n1..1\nnot ok 1 make_check.stages # a stage stopped the run: see its ERROR line above\n' \
		>build/results/stopped.tap; }
	@ci/report.sh --stages build/stage-times.tsv build/results

# stage-NAME: `make NAME`, timed, once the stages it depends on are done.
# Make starts the stages that are ready in this order.
STAGES := deps base liburing tree kernel-baseline series-lint host-tests checkpatch \
	review-selftest guest kernel-patched other-series-lint other-base other-tree \
	other-checkpatch liburing-baseline liburing-patched boot-patched \
	boot-baseline selftest liburing-compare
RUN_STAGE = +@ci/timed.sh $(@:stage-%=%) $(MAKE) --no-print-directory $(@:stage-%=%)
# other-NAME: stage NAME on the other stack, timed as OTHER-NAME.
RUN_OTHER = +@ci/timed.sh $(OTHER)-$(@:stage-other-%=%) \
	$(MAKE) --no-print-directory SERIES=$(OTHER) $(@:stage-other-%=%)
.PHONY: stage-check $(addprefix stage-,$(STAGES))
stage-check: $(addprefix stage-,$(STAGES))
stage-deps:
	$(RUN_STAGE)
stage-series-lint stage-host-tests stage-base stage-liburing: stage-deps
	$(RUN_STAGE)
stage-tree: stage-base
	$(RUN_STAGE)
stage-checkpatch stage-review-selftest stage-guest stage-kernel-baseline: stage-tree
	$(RUN_STAGE)
stage-kernel-patched: stage-kernel-baseline
	$(RUN_STAGE)
stage-liburing-baseline: stage-kernel-baseline stage-guest stage-liburing
	$(RUN_STAGE)
stage-liburing-patched stage-boot-patched: stage-kernel-patched stage-guest stage-liburing
	$(RUN_STAGE)
stage-boot-baseline stage-selftest: stage-kernel-patched stage-guest
	$(RUN_STAGE)
stage-liburing-compare: stage-liburing-baseline stage-liburing-patched
	$(RUN_STAGE)
# The other stack's checks wait for the baseline build, so that they share
# the second core with the patched kernel's niced build, not the first build.
stage-other-series-lint stage-other-base: stage-kernel-baseline
	$(RUN_OTHER)
stage-other-tree: stage-other-base
	$(RUN_OTHER)
stage-other-checkpatch: stage-other-tree
	$(RUN_OTHER)

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

# One after the other, even under make -j: they share the source tree.
kernels:
	@for k in $(KERNELS); do $(MAKE) --no-print-directory kernel-$$k || exit 1; done

kernel-baseline kernel-patched:
	ci/config.sh $(@:kernel-%=%) $(CONFIG_SET)
	ci/build.sh $(@:kernel-%=%) $(CONFIG_SET)

guest:
	ci/guest.sh

# A guest that fails to boot or hangs is reported by collect as failed runs,
# so the other kernel still runs and the report shows everything.
boot: $(addprefix boot-,$(KERNELS))

boot-baseline boot-patched:
	ci/boot.sh $(@:boot-%=%) $(CONFIG_SET) || true
	ci/collect.sh $(@:boot-%=%) $(CONFIG_SET)

selftest:
	ci/selftest.sh

# liburing's own test suite (Debian's source package, pinned in
# ci/stacks/STACK.env), built for the guest; then one boot of each test
# kernel with it, and the two compared per test
# (build/STACK/liburing-results/).
liburing:
	ci/liburing.sh

liburing-baseline liburing-patched:
	ci/liburing-boot.sh $(@:liburing-%=%)

liburing-compare:
	ci/liburing-compare.sh

report:
	ci/report.sh build/results

# The liburing stages alone, on the test kernels that `make check` built:
# the two boots side by side.
check-liburing: guest liburing
	@$(MAKE) --no-print-directory -j2 liburing-baseline liburing-patched
	@$(MAKE) --no-print-directory liburing-compare

# Not part of check: one kernel build per patch.
bisect-check: deps base tree
	ci/bisect-check.sh

# Not part of check: ~10 minutes, the naive guest deadlocks by design.
check-naive: deps base tree guest
	ci/naive.sh

# Every mutant in tests/mutants/STACK/ (the series with one rule broken)
# built, booted with the tests its trailers name, and killed by them;
# MUTANTS="NAME ..." runs only those whose file names contain a NAME.
check-mutants: deps base tree guest kernel-patched
	ci/mutants.sh $(MUTANTS)

# .ci/run on a fresh clone of HEAD in a scratch directory, with empty caches
# (cold: the base tarball, liburing's source and ccache start empty) or this
# machine's (warm); prints the stage table and the total. Debian packages
# stay installed: on a new machine ci/deps.sh installs them, in the deps
# stage's time.
check-cold:
	ci/check-fresh.sh cold

check-warm:
	ci/check-fresh.sh warm

# The harness stages with the bench config set (no lockdep), then the boots.
QUICK ?= 0
bench: deps base tree
	@$(MAKE) --no-print-directory kernels CONFIG_SET=bench
	@$(MAKE) --no-print-directory guest
	QUICK=$(QUICK) bench/run.sh

clean:
	rm -rf build/results build/*/selftest build/*/guest

distclean:
	rm -rf build
