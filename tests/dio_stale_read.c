// SPDX-License-Identifier: GPL-2.0
/*
 * dio_stale_read: after an async O_DIRECT write is reaped, a buffered read
 * of its range returns the new data, even while another thread keeps
 * reading that range through the page cache (the generic/451 pattern).
 *
 * The reader thread repopulates the page cache while writes are in
 * flight; the write invalidated its range before submission, so the pages
 * the reader brings back in hold the old data, and only the invalidation
 * at completion removes them.  A completion that skips it (for instance
 * an inline completion that did not check mapping->nrpages, the bug a
 * vendor carry of an irq-completion series shipped) leaves those stale
 * pages for the next buffered read: this test sees them.
 *
 * Iterations: DIO_RACE_ITERS, default RACE_ITERS_CI: about 14 s per run
 * (both engines) under TCG, so about a minute per guest boot for all four
 * device x filesystem runs.  The bench configuration runs 100000.  Zero
 * stale reads allowed.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/trace.h"
#include "lib/expect.h"

#define RANGE		4u	/* blocks written per iteration, one I/O each */
#define RACE_ITERS_CI	4000u

#define SEED_OLD	0x7374616c652d3030ULL
#define SEED_ITER	0x7374616c652d6974ULL

FIXTURE(dio_stale_read) {
	char path[PATH_MAX];
	bool created;
	int fd;			/* O_DIRECT */
	int bfd;		/* buffered, main thread */
	int rfd;		/* buffered, reader thread */
	struct dio_engine *eng;
	struct dio_trace trace;
	pthread_t reader;
	bool reader_started;
	atomic_bool stop;
	atomic_ulong reads;	/* reader passes completed */
	atomic_int reader_err;	/* errno of a failed reader pread */
};

FIXTURE_VARIANT(dio_stale_read) {
	const char *name;
	enum dio_engine_type engine;
};

FIXTURE_VARIANT_ADD(dio_stale_read, io_uring) {
	.name = "io_uring",
	.engine = DIO_ENGINE_IO_URING,
};

FIXTURE_VARIANT_ADD(dio_stale_read, libaio) {
	.name = "libaio",
	.engine = DIO_ENGINE_LIBAIO,
};

/* DIO_RACE_ITERS, or the CI default; 0 when set but not a number > 0. */
static unsigned long race_iters(void)
{
	const char *v = getenv("DIO_RACE_ITERS");
	char *end;
	unsigned long n;

	if (!v || !*v)
		return RACE_ITERS_CI;
	n = strtoul(v, &end, 10);
	return *end ? 0 : n;
}

/* Buffered reads of the whole range, as fast as it goes, until stopped. */
static void *reader_fn(void *arg)
{
	FIXTURE_DATA(dio_stale_read) *self = arg;
	char buf[RANGE * DIO_BS];

	while (!atomic_load(&self->stop)) {
		if (pread(self->rfd, buf, sizeof(buf), 0) < 0) {
			atomic_store(&self->reader_err, errno);
			break;
		}
		atomic_fetch_add(&self->reads, 1);
	}
	return NULL;
}

FIXTURE_SETUP(dio_stale_read)
{
	self->fd = -1;
	self->bfd = -1;
	self->rfd = -1;
	dio_setup_file(_metadata, self->path, sizeof(self->path),
		       "dio_stale_read", variant->name, RANGE, SEED_OLD);
	self->created = true;
}

FIXTURE_TEARDOWN(dio_stale_read)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	atomic_store(&self->stop, true);
	if (self->reader_started)
		pthread_join(self->reader, NULL);
	dio_trace_disarm(&self->trace);
	dio_engine_exit(self->eng);
	if (self->fd >= 0)
		close(self->fd);
	if (self->bfd >= 0)
		close(self->bfd);
	if (self->rfd >= 0)
		close(self->rfd);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

TEST_F_TIMEOUT(dio_stale_read, buffered_after_dio_write, DIO_TEST_TIMEOUT)
{
	uint64_t blocks[RANGE] = { 0, 1, 2, 3 };
	unsigned long iters = race_iters(), i, stale = 0;
	struct dio_mismatch mm, first_mm = { 0 };
	unsigned long first_stale = 0;
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = RANGE,
		.op = DIO_OP_WRITE,
		.blocks = blocks,
		.nr = RANGE,
	};
	char *buf;
	int ret;

	ASSERT_LT(0, iters) TH_LOG("DIO_RACE_ITERS=%s: want a number > 0",
				   getenv("DIO_RACE_ITERS"));
	TH_LOG("%s, %lu iterations of %u async 4 KiB writes against a buffered reader",
	       dio_engine_name(variant->engine), iters, RANGE);

	self->fd = open(self->path, O_RDWR | O_DIRECT);
	self->bfd = open(self->path, O_RDONLY);
	self->rfd = open(self->path, O_RDONLY);
	ASSERT_TRUE(self->fd >= 0 && self->bfd >= 0 && self->rfd >= 0)
		TH_LOG("open %s: %s", self->path, strerror(errno));
	ret = dio_engine_init(&self->eng, variant->engine, RANGE);
	ASSERT_EQ(0, ret) TH_LOG("%s setup: %s",
				 dio_engine_name(variant->engine),
				 strerror(-ret));
	r.eng = self->eng;
	r.fd = self->fd;
	buf = dio_alloc(RANGE * DIO_BS);
	ASSERT_NE(NULL, buf);

	ASSERT_EQ(0, pthread_create(&self->reader, NULL, reader_fn, self));
	self->reader_started = true;

	/*
	 * Counted, to show in the log how many completions met page cache
	 * (workqueue) and how many did not (inline): the race only bites
	 * when the reader got in while the write was in flight.
	 */
	dio_count_start(_metadata, &self->trace, self->fd);
	for (i = 0; i < iters; i++) {
		/* A new pattern per iteration: last round's data is stale. */
		r.seed = SEED_ITER + i;
		ret = dio_run_io(&r);
		if (ret) {
			free(buf);
			DIO_ASSERT_RUN_OK(&r, ret);
		}
		if (pread(self->bfd, buf, RANGE * DIO_BS, 0) !=
		    RANGE * DIO_BS) {
			free(buf);
			ASSERT_TRUE(false) TH_LOG("buffered pread, iteration %lu: %s",
						  i, strerror(errno));
		}
		if (dio_pattern_check(buf, DIO_BS, RANGE,
				      dio_expect_seed(r.seed), 0, &mm)) {
			if (!stale++) {
				first_stale = i;
				first_mm = mm;
			}
		}
	}
	atomic_store(&self->stop, true);
	pthread_join(self->reader, NULL);
	self->reader_started = false;
	free(buf);
	dio_count_stop(_metadata, &self->trace, &c, "all iterations");

	TH_LOG("%lu reader passes, %lu stale reads", atomic_load(&self->reads),
	       stale);
	ASSERT_EQ(0, atomic_load(&self->reader_err))
		TH_LOG("reader pread: %s",
		       strerror(atomic_load(&self->reader_err)));
	/* A reader that never ran would make the test prove nothing. */
	EXPECT_LT(0UL, atomic_load(&self->reads));
	EXPECT_EQ(0UL, stale)
		TH_LOG("stale buffered read after a reaped O_DIRECT write: first in iteration %lu, block %llu byte %zu: want %#018llx, got %#018llx%s",
		       first_stale, (unsigned long long)first_mm.block,
		       first_mm.offset, (unsigned long long)first_mm.want,
		       (unsigned long long)first_mm.got,
		       dio_selftest_fail() ?
		       " (DIO_SELFTEST_FAIL=1 expects a wrong pattern)" : "");
}

TEST_HARNESS_MAIN
