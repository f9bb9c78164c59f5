// SPDX-License-Identifier: GPL-2.0
/*
 * dio_wait: inode_dio_wait() never waits on a completion that only a
 * blocked task could run (BRIEF.md section 3).
 *
 * ftruncate() and fallocate() wait in inode_dio_wait() for every direct
 * I/O in flight on the inode, holding i_rwsem.  A scheme that hands a
 * write's inode_dio_end() to a particular task (io_uring's caller
 * completion did, 838b35bb6a89 had to disable it) deadlocks when that task
 * is the one waiting, or is blocked on i_rwsem behind the waiter.  Both
 * shapes are built here with writes in flight and not reaped; a deadlock
 * shows as the harness timeout (and the hung-task detector's splat in the
 * console), and afterwards every write must have landed.
 *
 * Whether a write is still in flight when the truncate starts is up to
 * timing: the test exercises the window, it cannot force it.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/expect.h"

#define NBLOCKS		32u
#define BATCH		8u	/* writes per batch; two batches at most */
#define WAIT_TIMEOUT	120	/* s: a deadlock must fail, not stall CI */

#define SEED_OLD	0x776169742d6f6c64ULL
#define SEED_NEW	0x776169742d6e6577ULL

FIXTURE(dio_wait) {
	char path[PATH_MAX];
	bool created;
	int fd;
	struct dio_engine *eng;
	char *bufs;
	pthread_t truncator;
	bool truncator_started;
	int truncate_err;	/* errno of the truncating thread, or 0 */
};

FIXTURE_VARIANT(dio_wait) {
	const char *name;
	enum dio_engine_type engine;
};

FIXTURE_VARIANT_ADD(dio_wait, io_uring) {
	.name = "io_uring",
	.engine = DIO_ENGINE_IO_URING,
};

FIXTURE_VARIANT_ADD(dio_wait, libaio) {
	.name = "libaio",
	.engine = DIO_ENGINE_LIBAIO,
};

FIXTURE_SETUP(dio_wait)
{
	self->fd = -1;
	dio_setup_file(_metadata, self->path, sizeof(self->path), "dio_wait",
		       variant->name, NBLOCKS, SEED_OLD);
	self->created = true;
}

FIXTURE_TEARDOWN(dio_wait)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	if (self->truncator_started)
		pthread_join(self->truncator, NULL);
	dio_engine_exit(self->eng);
	if (self->fd >= 0)
		close(self->fd);
	free(self->bufs);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/* Open the file, set up the engine for two batches and their buffers. */
static void wait_setup(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dio_wait) *self,
		       const FIXTURE_VARIANT(dio_wait) *variant)
{
	int ret;

	self->fd = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));
	ret = dio_engine_init(&self->eng, variant->engine, 2 * BATCH);
	ASSERT_EQ(0, ret) TH_LOG("%s setup: %s",
				 dio_engine_name(variant->engine),
				 strerror(-ret));
	self->bufs = dio_alloc(2 * BATCH * DIO_BS);
	ASSERT_NE(NULL, self->bufs);
}

/* Submit BATCH overwrites of blocks @first.., buffers of batch @batch. */
static void submit_batch(struct __test_metadata *_metadata,
			 FIXTURE_DATA(dio_wait) *self, unsigned int batch,
			 uint64_t first)
{
	unsigned int i;
	int ret;

	for (i = 0; i < BATCH; i++) {
		char *buf = self->bufs + (size_t)(batch * BATCH + i) * DIO_BS;
		uint64_t blk = first + i;

		dio_pattern_fill(buf, DIO_BS, SEED_NEW, blk);
		ret = dio_engine_queue(self->eng, DIO_OP_WRITE, self->fd, buf,
				       DIO_BS, (off_t)blk * DIO_BS,
				       (void *)(uintptr_t)blk);
		ASSERT_EQ(0, ret) TH_LOG("queue block %llu: %s",
					 (unsigned long long)blk,
					 strerror(-ret));
	}
	ret = dio_engine_submit(self->eng);
	ASSERT_EQ((int)BATCH, ret) TH_LOG("submit: %s",
					  ret < 0 ? strerror(-ret) : "short");
}

/* Reap everything in flight; each write must have written DIO_BS. */
static void reap_all(struct __test_metadata *_metadata,
		     FIXTURE_DATA(dio_wait) *self)
{
	struct dio_cqe cqes[2 * BATCH];
	int i, n;

	while (dio_engine_busy(self->eng)) {
		n = dio_engine_reap(self->eng, cqes, 1, 2 * BATCH);
		ASSERT_LT(0, n) TH_LOG("reap: %s", n ? strerror(-n) : "nothing");
		for (i = 0; i < n; i++)
			ASSERT_EQ((long long)DIO_BS, cqes[i].res)
				TH_LOG("write of block %llu: res %lld",
				       (unsigned long long)(uintptr_t)cqes[i].user,
				       cqes[i].res);
	}
}

/*
 * The task that has the writes in flight truncates and fallocates: both
 * wait for those writes, which must complete without this task's help.
 */
TEST_F_TIMEOUT(dio_wait, same_task, WAIT_TIMEOUT)
{
	wait_setup(_metadata, self, variant);
	submit_batch(_metadata, self, 0, 0);
	submit_batch(_metadata, self, 1, BATCH);

	ASSERT_EQ(0, ftruncate(self->fd, (NBLOCKS + 1) * DIO_BS))
		TH_LOG("ftruncate with writes in flight: %s", strerror(errno));
	ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_KEEP_SIZE,
			       (NBLOCKS + 1) * DIO_BS, DIO_BS))
		TH_LOG("fallocate with writes in flight: %s", strerror(errno));
	reap_all(_metadata, self);

	dio_assert_size(_metadata, self->fd, NBLOCKS + 1);
	dio_assert_blocks(_metadata, self->fd, 0, 2 * BATCH, SEED_NEW,
			  "written blocks");
	dio_assert_blocks(_metadata, self->fd, 2 * BATCH,
			  NBLOCKS - 2 * BATCH, SEED_OLD, "untouched blocks");
}

static void *truncator_fn(void *arg)
{
	FIXTURE_DATA(dio_wait) *self = arg;

	if (ftruncate(self->fd, (NBLOCKS + 1) * DIO_BS))
		self->truncate_err = errno;
	return NULL;
}

/*
 * Two tasks crossing through i_rwsem: this task has writes in flight;
 * another truncates (i_rwsem held, waiting for them); this task then
 * issues more writes, which need i_rwsem and so queue behind the
 * truncate (libaio blocks in io_submit; io_uring may punt to io-wq).  The
 * first writes must complete without this task running again.
 */
TEST_F_TIMEOUT(dio_wait, other_task, WAIT_TIMEOUT)
{
	wait_setup(_metadata, self, variant);
	submit_batch(_metadata, self, 0, 0);

	ASSERT_EQ(0, pthread_create(&self->truncator, NULL, truncator_fn,
				    self));
	self->truncator_started = true;
	/* Give it the CPU (1 vCPU): it takes i_rwsem and waits. */
	usleep(1000);
	submit_batch(_metadata, self, 1, BATCH);
	reap_all(_metadata, self);

	pthread_join(self->truncator, NULL);
	self->truncator_started = false;
	ASSERT_EQ(0, self->truncate_err)
		TH_LOG("ftruncate: %s", strerror(self->truncate_err));

	dio_assert_size(_metadata, self->fd, NBLOCKS + 1);
	dio_assert_blocks(_metadata, self->fd, 0, 2 * BATCH, SEED_NEW,
			  "written blocks");
	dio_assert_blocks(_metadata, self->fd, 2 * BATCH,
			  NBLOCKS - 2 * BATCH, SEED_OLD, "untouched blocks");
}

TEST_HARNESS_MAIN
