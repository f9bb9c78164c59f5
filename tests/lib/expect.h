/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness-side helpers shared by the completion-context tests: they ASSERT
 * and log through the harness, so unlike dio.h and trace.h this header
 * needs kselftest_harness.h included before it, and only test files (one
 * per binary) include it.  Everything is static inline: a binary that does
 * not use a helper does not warn about it.
 */
#ifndef DIO_TEST_EXPECT_H
#define DIO_TEST_EXPECT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "dio.h"
#include "trace.h"

#ifndef ASSERT_EQ
#error "include kselftest_harness.h before lib/expect.h"
#endif

/*
 * Arm the completion counters @t on inode @ino (another file's than the
 * one the I/O goes to, e.g. the real file under an overlay).
 */
static inline void dio_count_start_ino(struct __test_metadata *_metadata,
				       struct dio_trace *t, uint64_t ino)
{
	int ret = dio_trace_start(t, ino);

	ASSERT_EQ(0, ret) TH_LOG("arming the completion counters: %s",
				 strerror(-ret));
}

/* Arm the completion counters @t on @fd's inode. */
static inline void dio_count_start(struct __test_metadata *_metadata,
				   struct dio_trace *t, int fd)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st)) TH_LOG("fstat: %s", strerror(errno));
	dio_count_start_ino(_metadata, t, st.st_ino);
}

/*
 * Read and disarm the counters into @c, and log them after @what, so every
 * run's TAP shows where its completions ran.
 */
static inline void dio_count_stop(struct __test_metadata *_metadata,
				  struct dio_trace *t, struct dio_counts *c,
				  const char *what)
{
	char msg[256];
	int ret;

	ret = dio_trace_stop(t, c);
	ASSERT_EQ(0, ret) TH_LOG("reading the completion counters: %s",
				 strerror(-ret));
	dio_counts_describe(c, msg, sizeof(msg));
	TH_LOG("%s: %s", what, msg);
}

/*
 * Run @r with the counters armed on @r->fd's inode, and read them into
 * @c.  The I/O result is dio_run_io()'s, for the caller to judge (an error
 * test wants a failure).
 */
static inline int dio_run_counted(struct __test_metadata *_metadata,
				  struct dio_trace *t, struct dio_run *r,
				  struct dio_counts *c)
{
	char what[64];
	int ret;

	dio_count_start(_metadata, t, r->fd);
	ret = dio_run_io(r);
	snprintf(what, sizeof(what), "%s qd %u, %u %ss",
		 dio_engine_name(r->engine), r->qd, r->nr,
		 r->op == DIO_OP_WRITE ? "write" : "read");
	dio_count_stop(_metadata, t, c, what);
	return ret;
}

/* ASSERT that dio_run_io() returned @ret == 0, saying what failed if not. */
#define DIO_ASSERT_RUN_OK(r, ret) do {					\
	char __msg[256];						\
									\
	dio_run_describe((r), (ret), __msg, sizeof(__msg));		\
	ASSERT_EQ(0, (ret)) TH_LOG("%s", __msg);			\
} while (0)

/*
 * ASSERT that the counts @c show the event exactly where the kernel's stack
 * declares ctx_event (dio_counts_declared()).
 */
#define DIO_ASSERT_DECLARED(c) do {					\
	char __why[256];						\
									\
	ASSERT_EQ(0, dio_counts_declared((c), dio_env_does(), __why,	\
					 sizeof(__why)))		\
		TH_LOG("%s", __why);					\
} while (0)

/*
 * EXPECT the counts @c of @nr I/Os to meet @e on this kernel, @plugged as
 * in enum dio_expect (see dio_counts_check()).  EXPECT, not ASSERT: the
 * data checks that follow still run and report.
 */
#define DIO_EXPECT_COUNTS(c, e, plugged, nr) do {			\
	char __why[256];						\
									\
	EXPECT_EQ(0, dio_counts_check((c), (e), (plugged),		\
				      dio_env_does(), (nr), __why,	\
				      sizeof(__why)))			\
		TH_LOG("%s", __why);					\
} while (0)

/*
 * Setup shared by the fixtures: the test file's path under DIO_TEST_DIR,
 * "<dir>/<test>.<variant>.<pid>", and the file itself, @nblocks written
 * and mapped blocks of pattern @seed (dio_file_prepare()).  Running outside
 * the guest harness (no DIO_TEST_DIR) is a failure, not a pass.
 */
static inline void dio_setup_file(struct __test_metadata *_metadata,
				  char *path, size_t len, const char *test,
				  const char *variant, uint64_t nblocks,
				  uint64_t seed)
{
	const char *dir = dio_env_dir();
	char name[96];
	int ret;

	ASSERT_NE(NULL, dir)
		TH_LOG("DIO_TEST_DIR is not set: it must name the mount point of the filesystem under test");
	snprintf(name, sizeof(name), "%s.%s", test, variant);
	ret = dio_file_path(path, len, dir, name);
	ASSERT_EQ(0, ret) TH_LOG("path for %s in %s: %s", name, dir,
				 strerror(-ret));
	ret = dio_file_prepare(path, nblocks, seed);
	ASSERT_EQ(0, ret) TH_LOG("preparing %s: %s", path, strerror(-ret));
}

/*
 * Read @nblocks blocks from @first of @fd with pread and ASSERT they hold
 * pattern @seed (dio_expect_seed() applied here); @what names the check.
 */
static inline void dio_assert_blocks(struct __test_metadata *_metadata,
				     int fd, uint64_t first, uint64_t nblocks,
				     uint64_t seed, const char *what)
{
	struct dio_mismatch mm;
	char *buf = dio_alloc(DIO_BS);
	uint64_t b;
	int ret = 0;

	ASSERT_NE(NULL, buf);
	for (b = first; b < first + nblocks && !ret; b++) {
		ssize_t n;

		memset(buf, 0xa5, DIO_BS);
		n = pread(fd, buf, DIO_BS, b * DIO_BS);
		if (n != DIO_BS) {
			free(buf);
			ASSERT_EQ((ssize_t)DIO_BS, n)
				TH_LOG("%s: pread block %llu: %s", what,
				       (unsigned long long)b,
				       n < 0 ? strerror(errno) : "short read");
		}
		ret = dio_pattern_check(buf, DIO_BS, 1, dio_expect_seed(seed),
					b, &mm);
	}
	free(buf);
	ASSERT_EQ(0, ret)
		TH_LOG("%s: block %llu byte %zu: want %#018llx, got %#018llx%s",
		       what, (unsigned long long)mm.block, mm.offset,
		       (unsigned long long)mm.want,
		       (unsigned long long)mm.got,
		       dio_selftest_fail() ?
		       " (DIO_SELFTEST_FAIL=1 expects a wrong pattern)" : "");
}

/* ASSERT that @fd's file is @blocks blocks long. */
static inline void dio_assert_size(struct __test_metadata *_metadata, int fd,
				   uint64_t blocks)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st)) TH_LOG("fstat: %s", strerror(errno));
	ASSERT_EQ((off_t)(blocks * DIO_BS), st.st_size);
}

#endif /* DIO_TEST_EXPECT_H */
