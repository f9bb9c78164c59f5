/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the guest-side O_DIRECT tests.
 *
 * This library deliberately does not include kselftest_harness.h: the 6.1
 * harness header defines non-static globals (_fixture_global, __active_test,
 * __run_test, ...), so it can only be included by exactly one translation
 * unit per binary, the test itself.  Everything here therefore reports
 * errors as a negative errno (or a mismatch descriptor) and leaves the
 * ASSERT/EXPECT decision to the caller.
 */
#ifndef DIO_TEST_LIB_H
#define DIO_TEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* All tests do I/O in units of one 4 KiB block, 4 KiB aligned. */
#define DIO_BS			4096u
#define DIO_ALIGN		4096u

/*
 * Per-test timeout in seconds.  The guest is QEMU without KVM running a
 * lockdep kernel, easily 20-50x slower than native, and the 6.1 harness
 * default of 30 s also covers FIXTURE_SETUP (the alarm is armed around the
 * whole forked child), so the default is far too tight.
 */
#define DIO_TEST_TIMEOUT	300

/* ------------------------------------------------------------------ */
/* Environment: the contract with the guest init script.              */

/* DIO_TEST_DIR, or NULL when unset or empty. */
const char *dio_env_dir(void);
/* DIO_TEST_FS ("ext4", "xfs"), or NULL when unset or empty. */
const char *dio_env_fs(void);
/* DIO_TEST_DEV (e.g. "/dev/nvme0n1"), or NULL when unset or empty. */
const char *dio_env_dev(void);

/*
 * DIO_TEST_COMPLETION_DELAY_NS: on a disk whose every request completes that
 * long after it was queued (the guest's null_blk disk), so that no bio
 * completes before its submitting syscall returns; 0 on any other disk,
 * where that is up to the device's timing.
 */
uint64_t dio_env_completion_delay_ns(void);

/*
 * DIO_TEST_NULLB_CONFIG: the configfs directory of the guest's null_blk
 * disk when DIO_TEST_DEV is that disk, else NULL.
 */
const char *dio_env_nullb_config(void);

/*
 * What the kernel under test does, as its stack declares it for each kernel
 * (ci/stacks/STACK.env: EXPECT_BASELINE, EXPECT_PATCHED): the words of
 * DIO_TEST_EXPECT.  Tests assert what a kernel must do from these, not from
 * its name: mainline's baseline already completes overwrites in irq context.
 */
enum dio_does {
	/* "ctx_event": iomap_dio_complete records the completion context */
	DIO_DOES_CTX_EVENT	= 1 << 0,
	/* "irq_writes": writes that need no completion work complete in irq */
	DIO_DOES_IRQ_WRITES	= 1 << 1,
	/* "caller_comp": io_uring's issuer runs task-context completions */
	DIO_DOES_CALLER_COMP	= 1 << 2,
	/*
	 * "handback_ctx": the event's ctx also names completions run by the
	 * issuer they were handed to ("issuer") and by a task that took them
	 * back in inode_dio_wait() ("taken_back")
	 */
	DIO_DOES_HANDBACK_CTX	= 1 << 3,
	/*
	 * "ovl_task": overlayfs finishes an async write to its real file from
	 * a work item of its own, in task context, wherever the real
	 * filesystem completed it (upstream 389a4a4a1985; 6.1.y's 0008)
	 */
	DIO_DOES_OVL_TASK	= 1 << 4,
};

/*
 * DIO_TEST_EXPECT parsed into enum dio_does bits (words separated by
 * spaces or commas; "none" for no word), or -1 when it is unset or holds a
 * word this library does not know: a test must fail then, not guess.
 */
int dio_env_does(void);

/*
 * The name of DIO_TEST_DEV under /sys/block ("nvme0n1", "vda"), or NULL when
 * DIO_TEST_DEV is unset.  The test devices are whole disks, not partitions.
 */
const char *dio_env_blkname(void);

/* True when DIO_SELFTEST_FAIL=1: the harness wants the data check to fail. */
bool dio_selftest_fail(void);

/*
 * The seed a data check must compare against.  Normally @seed itself; under
 * DIO_SELFTEST_FAIL=1 a different seed, so every block mismatches and the
 * harness can prove that a failing guest test turns the run red.  Every
 * data check must go through this, never use the write seed directly.
 */
uint64_t dio_expect_seed(uint64_t seed);

/* ------------------------------------------------------------------ */
/* Control files (sysfs, debugfs, tracefs).                            */

/*
 * Write the string @val to @path in one write(): tracefs and debugfs
 * parse each write on its own.  Returns 0 or -errno.
 */
int dio_ctl_write(const char *path, const char *val);

/*
 * Read @path (at most @len - 1 bytes) into @buf, NUL-terminated, with one
 * trailing newline removed.  Returns 0 or -errno.
 */
int dio_ctl_read(const char *path, char *buf, size_t len);

/*
 * Read all of @path into a malloc()ed, NUL-terminated buffer in *@out:
 * for files of unknown size such as a histogram.  Returns 0 or -errno.
 */
int dio_ctl_read_all(const char *path, char **out);

/* ------------------------------------------------------------------ */
/* Buffers.                                                            */

/* @len bytes aligned to DIO_ALIGN, or NULL (errno set). Free with free(). */
void *dio_alloc(size_t len);

/* ------------------------------------------------------------------ */
/* Data patterns.                                                      */

/*
 * Word @word of block @block for pattern @seed.  Every 64-bit word depends
 * on all three, so a block written at the wrong offset, a stale block from
 * an earlier pattern, or a torn block (part old, part new) never verifies.
 */
uint64_t dio_pattern_word(uint64_t seed, uint64_t block, uint64_t word);

/* Fill @bs bytes (multiple of 8) at @buf with block @block of @seed. */
void dio_pattern_fill(void *buf, size_t bs, uint64_t seed, uint64_t block);

/* Where a check found the first wrong word. */
struct dio_mismatch {
	uint64_t block;		/* file block index */
	size_t offset;		/* byte offset inside that block */
	uint64_t want;
	uint64_t got;
};

/*
 * Check @nblocks blocks of @bs bytes at @buf, which should hold blocks
 * @first .. @first + @nblocks - 1 of pattern @seed.  Returns 0 when all
 * match, 1 on the first mismatch (described in @mm).
 */
int dio_pattern_check(const void *buf, size_t bs, uint64_t nblocks,
		      uint64_t seed, uint64_t first, struct dio_mismatch *mm);

/*
 * Which block of pattern @seed (among @nblocks) does @buf hold?  Compares
 * only the first word, for diagnostics of a misplaced write.  Returns the
 * block index, or -1 when none.
 */
int64_t dio_pattern_whose(const void *buf, uint64_t seed, uint64_t nblocks);

/* ------------------------------------------------------------------ */
/* Deterministic randomness.                                           */

/* splitmix64: tiny, seedable, good enough for shuffles and offsets. */
uint64_t dio_rand_next(uint64_t *state);

/* Fill @idx with a @seed-determined random permutation of 0 .. @n - 1. */
void dio_permutation(uint32_t *idx, uint32_t n, uint64_t seed);

/* ------------------------------------------------------------------ */
/* Test files.                                                         */

/*
 * "<dir>/<name>.<pid>" into @buf.  The pid keeps a leftover from a killed
 * (timed out) earlier run from colliding.  Returns 0 or -ENAMETOOLONG.
 */
int dio_file_path(char *buf, size_t len, const char *dir, const char *name);

/*
 * Create @path (which must not exist), fallocate @nblocks blocks of DIO_BS
 * and fill them with buffered writes of pattern @seed, fsync, then drop the
 * file from the page cache.  Afterwards every block is written and mapped
 * on disk, so later O_DIRECT writes are pure overwrites.  Returns 0, or a
 * negative errno after unlinking whatever it created: in 6.1 a failing
 * FIXTURE_SETUP skips FIXTURE_TEARDOWN, so setup must not leak on error.
 */
int dio_file_prepare(const char *path, uint64_t nblocks, uint64_t seed);

/*
 * Does FIEMAP (with FIEMAP_FLAG_SYNC) report any part of [@off, @off + @len)
 * of @fd as unwritten?  1 if so, 0 if not, -ENODATA when nothing is mapped
 * there, or -errno.
 */
int dio_range_unwritten(int fd, off_t off, size_t len);

/*
 * The byte address on the disk of the file block at @off of @fd (FIEMAP,
 * FIEMAP_FLAG_SYNC): 0, or -ENODATA when it is not mapped, or -errno.
 */
int dio_file_physical(int fd, off_t off, uint64_t *phys);

/* fsync (when @sync) and drop @fd's file from the page cache: 0 or -errno. */
int dio_drop_cache(int fd, bool sync);

/*
 * Read blocks 0 .. @nblocks - 1 of @fd with pread (the caller picks O_DIRECT
 * or buffered by how it opened @fd) and check them against pattern @seed.
 * Returns 0 when all match, 1 on a mismatch (in @mm), or a negative errno
 * on a failed or short read.
 */
int dio_read_verify(int fd, uint64_t nblocks, uint64_t seed,
		    struct dio_mismatch *mm);

/* ------------------------------------------------------------------ */
/* Async I/O engines.                                                  */

enum dio_engine_type {
	DIO_ENGINE_IO_URING,
	DIO_ENGINE_LIBAIO,
};

enum dio_op {
	DIO_OP_READ,
	DIO_OP_WRITE,
};

/* One reaped completion. */
struct dio_cqe {
	void *user;		/* as passed to dio_engine_queue() */
	long long res;		/* bytes transferred, or negative errno */
};

struct dio_engine;

const char *dio_engine_name(enum dio_engine_type type);

/*
 * The four variants most tests run in: io_uring and libaio at queue depth 1
 * and 16, for a FIXTURE_VARIANT() with the members name, engine and qd.  A
 * macro over the harness's FIXTURE_VARIANT_ADD(), so only for test files.
 */
#define DIO_ENGINE_QD_VARIANT(fixture, eng, type, depth)		\
	FIXTURE_VARIANT_ADD(fixture, eng##_qd##depth) {			\
		.name = #eng "_qd" #depth,				\
		.engine = type,						\
		.qd = depth,						\
	}
#define DIO_ENGINE_QD_VARIANTS(fixture)					\
	DIO_ENGINE_QD_VARIANT(fixture, io_uring, DIO_ENGINE_IO_URING, 1);	\
	DIO_ENGINE_QD_VARIANT(fixture, io_uring, DIO_ENGINE_IO_URING, 16);	\
	DIO_ENGINE_QD_VARIANT(fixture, libaio, DIO_ENGINE_LIBAIO, 1);	\
	DIO_ENGINE_QD_VARIANT(fixture, libaio, DIO_ENGINE_LIBAIO, 16)

/*
 * Set up an engine that keeps at most @depth I/Os queued plus in flight.
 * Returns 0 or a negative errno (-ENOSYS/-EPERM: the interface is off).
 */
int dio_engine_init(struct dio_engine **ep, enum dio_engine_type type,
		    unsigned int depth);

/*
 * Queue one @op of @len bytes at @off of @fd from/to @buf; @user comes back
 * in its completion.  Nothing reaches the kernel until dio_engine_submit(),
 * so a caller can batch.  Returns 0, or -EBUSY when @depth I/Os are
 * already queued or in flight (reap first).
 */
int dio_engine_queue(struct dio_engine *e, enum dio_op op, int fd, void *buf,
		     size_t len, off_t off, void *user);

/* Submit everything queued.  Returns the number submitted, or -errno. */
int dio_engine_submit(struct dio_engine *e);

/*
 * Wait for at least @min (capped at the number in flight) and return up to
 * @max completions in @cqes.  Returns their number, or -errno.
 */
int dio_engine_reap(struct dio_engine *e, struct dio_cqe *cqes,
		    unsigned int min, unsigned int max);

/* I/Os queued or submitted and not yet reaped. */
unsigned int dio_engine_busy(const struct dio_engine *e);

/* Tear down; in-flight I/O is waited for by the kernel on ring/ctx exit. */
void dio_engine_exit(struct dio_engine *e);

/* ------------------------------------------------------------------ */
/* A batch of async 4 KiB I/Os.                                        */

/*
 * What dio_run_io() does: @nr I/Os of DIO_BS, the i-th at file block
 * @blocks[i], through @engine keeping up to @qd in flight.  A write writes
 * block blocks[i] of pattern @seed; a read checks it holds that block of
 * pattern @seed.  The caller opens @fd with the flags under test.  A
 * loop that runs many batches passes its own engine in @eng: setting up a
 * ring per batch costs more than the batch under TCG.
 */
struct dio_run {
	/* NULL: set one up and tear it down; else reuse it (depth >= qd). */
	struct dio_engine *eng;
	enum dio_engine_type engine;
	unsigned int qd;
	enum dio_op op;
	int fd;
	const uint64_t *blocks;
	uint32_t nr;
	uint64_t seed;

	/* Results. */
	uint32_t done;		/* I/Os reaped */
	uint64_t bad_block;	/* the first I/O whose res was not DIO_BS */
	long long bad_res;	/* ... and its res */
	struct dio_mismatch mm;	/* a read's first mismatch */
};

#define DIO_RUN_BAD_RES		1	/* an I/O did not return DIO_BS */
#define DIO_RUN_MISMATCH	2	/* a read returned the wrong data */

/*
 * Run @r and reap every I/O it submitted, even after a failed one.
 * Returns 0 when all returned DIO_BS (and reads matched), DIO_RUN_BAD_RES
 * or DIO_RUN_MISMATCH with the details in @r, or a negative errno when the
 * engine itself failed (setup, submit or reap).
 */
int dio_run_io(struct dio_run *r);

/* One line saying what went wrong in @r after dio_run_io() returned @ret. */
void dio_run_describe(const struct dio_run *r, int ret, char *buf,
		      size_t len);

#endif /* DIO_TEST_LIB_H */
