// SPDX-License-Identifier: GPL-2.0
/*
 * dio_punt: every async O_DIRECT write that needs task context at
 * completion still gets it.
 *
 * The series lets a pure overwrite complete in the bio end_io (irq).  Each
 * test here breaks exactly one condition of "pure overwrite" and asserts
 * that no completion of the file ran in irq context (on a kernel whose
 * iomap_dio_complete event records it), and that the data is right
 * afterwards.
 * Where the submission is plugged (libaio batches of four), the dio
 * workqueue must also have run, on both kernels; elsewhere the issuer may
 * legitimately complete its own write first (see enum dio_expect), which
 * is task context too.  These tests guard every kernel that completes
 * writes in irq context against completing too much inline.
 *
 * The punt rules (BRIEF.md section 2, issue 6):
 *   - the write extends i_size (pos + len > i_size at submission);
 *   - an extent is unwritten or newly allocated (fallocated space, holes);
 *   - O_DSYNC/O_SYNC, unless the whole write went out FUA or to a device
 *     without a volatile write cache (then nothing is left to sync);
 *   - the mapping has page cache at completion (it must be invalidated,
 *     which sleeps);
 *   - an I/O error (dio_error.c).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/trace.h"
#include "lib/expect.h"

#define NBLOCKS		16u	/* written, mapped blocks to start with */
#define NWRITES		8u	/* writes per test */
#define QD		4u

#define SEED_OLD	0x70756e742d6f6c64ULL
#define SEED_NEW	0x70756e742d6e6577ULL

FIXTURE(dio_punt) {
	char path[PATH_MAX];
	bool created;
	int fd;			/* O_DIRECT, with the flags under test */
	int bfd;		/* buffered */
	struct dio_trace trace;
	uint64_t blocks[NWRITES];
	/* queue/write_cache as found, restored by teardown when changed. */
	char wc_path[128];
	char wc_saved[32];
	bool wc_changed;
};

FIXTURE_VARIANT(dio_punt) {
	const char *name;
	enum dio_engine_type engine;
};

FIXTURE_VARIANT_ADD(dio_punt, io_uring) {
	.name = "io_uring",
	.engine = DIO_ENGINE_IO_URING,
};

FIXTURE_VARIANT_ADD(dio_punt, libaio) {
	.name = "libaio",
	.engine = DIO_ENGINE_LIBAIO,
};

FIXTURE_SETUP(dio_punt)
{
	self->fd = -1;
	self->bfd = -1;
	dio_setup_file(_metadata, self->path, sizeof(self->path), "dio_punt",
		       variant->name, NBLOCKS, SEED_OLD);
	self->created = true;
}

FIXTURE_TEARDOWN(dio_punt)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	dio_trace_disarm(&self->trace);
	if (self->wc_changed && dio_ctl_write(self->wc_path, self->wc_saved))
		TH_LOG("could not restore %s to \"%s\"", self->wc_path,
		       self->wc_saved);
	if (self->fd >= 0)
		close(self->fd);
	if (self->bfd >= 0)
		close(self->bfd);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/* ext4 waits for extending writes in the issuer (IOMAP_DIO_FORCE_WAIT). */
static enum dio_expect extend_expect(void)
{
	const char *fs = dio_env_fs();

	return fs && !strcmp(fs, "ext4") ? DIO_EXPECT_ISSUER :
					   DIO_EXPECT_TASK_CONTEXT;
}

/*
 * libaio plugs a batch of more than two iocbs, and never retries from
 * another thread: every bio of such a batch (the first one of QD writes,
 * at least) reaches the device after the issuer dropped its references,
 * so the completion side must show.  io_uring retries what IOCB_NOWAIT
 * refused (allocations, timestamp updates) from io-wq, unplugged: no such
 * guarantee.
 */
static bool plugged(const FIXTURE_VARIANT(dio_punt) *variant,
		    unsigned int qd)
{
	return variant->engine == DIO_ENGINE_LIBAIO && qd > 2;
}

/* Open the O_DIRECT fd with @oflags and fill blocks[] from @first on. */
static void punt_open(struct __test_metadata *_metadata,
		      FIXTURE_DATA(dio_punt) *self, int oflags,
		      uint64_t first)
{
	unsigned int i;

	self->fd = open(self->path, O_RDWR | O_DIRECT | oflags);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));
	for (i = 0; i < NWRITES; i++)
		self->blocks[i] = first + i;
}

/*
 * NWRITES writes of blocks[] (new pattern) at @qd, counted; EXPECT @e
 * (@fua: the writes go out FUA, which bypasses the plug); then the written
 * blocks must hold the new data and blocks 0 .. @old_blocks - 1 the old.
 */
static void punt_write_check(struct __test_metadata *_metadata,
			     FIXTURE_DATA(dio_punt) *self,
			     const FIXTURE_VARIANT(dio_punt) *variant,
			     unsigned int qd, enum dio_expect e, bool fua,
			     uint64_t old_blocks)
{
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = qd,
		.op = DIO_OP_WRITE,
		.fd = self->fd,
		.blocks = self->blocks,
		.nr = NWRITES,
		.seed = SEED_NEW,
	};
	int ret;

	ret = dio_run_counted(_metadata, &self->trace, &r, &c);
	DIO_ASSERT_RUN_OK(&r, ret);
	DIO_EXPECT_COUNTS(&c, e, !fua && plugged(variant, qd), NWRITES);

	dio_assert_blocks(_metadata, self->fd, self->blocks[0], NWRITES,
			  SEED_NEW, "written blocks, O_DIRECT");
	dio_assert_blocks(_metadata, self->fd, 0, old_blocks, SEED_OLD,
			  "untouched blocks, O_DIRECT");
}

/* Appending writes extend i_size: the size update needs task context. */
TEST_F_TIMEOUT(dio_punt, extend_append, DIO_TEST_TIMEOUT)
{
	punt_open(_metadata, self, 0, NBLOCKS);
	/* QD 1: each write starts exactly at the EOF the previous one left. */
	punt_write_check(_metadata, self, variant, 1, extend_expect(), false,
			 NBLOCKS);
	dio_assert_size(_metadata, self->fd, NBLOCKS + NWRITES);
}

/*
 * The size rule alone: a whole, written and mapped block that straddles
 * EOF (i_size cut inside it), so nothing but the size update needs task
 * context.  Each round re-cuts i_size inside the last block.
 */
TEST_F_TIMEOUT(dio_punt, extend_in_block, DIO_TEST_TIMEOUT)
{
	uint64_t last = NBLOCKS - 1;
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = 1,
		.op = DIO_OP_WRITE,
		.blocks = &last,
		.nr = 1,
		.seed = SEED_NEW,
	};
	unsigned int i;
	int ret;

	punt_open(_metadata, self, 0, 0);
	r.fd = self->fd;
	dio_count_start(_metadata, &self->trace, self->fd);
	for (i = 0; i < NWRITES; i++) {
		/*
		 * Shrinking keeps the block allocated and written (it is
		 * still partly inside the file) and zeroes its tail through
		 * the page cache: write that back and drop it, so the
		 * O_DIRECT write finds no page cache.
		 */
		ASSERT_EQ(0, ftruncate(self->fd, NBLOCKS * DIO_BS - 512));
		ASSERT_EQ(0, dio_drop_cache(self->fd, true));
		ret = dio_run_io(&r);
		DIO_ASSERT_RUN_OK(&r, ret);
	}
	dio_count_stop(_metadata, &self->trace, &c, "straddling EOF, qd 1");
	DIO_EXPECT_COUNTS(&c, extend_expect(), false, NWRITES);

	dio_assert_size(_metadata, self->fd, NBLOCKS);
	dio_assert_blocks(_metadata, self->fd, last, 1, SEED_NEW,
			  "straddling block, O_DIRECT");
	dio_assert_blocks(_metadata, self->fd, 0, last, SEED_OLD,
			  "untouched blocks, O_DIRECT");
}

/* Writes into fallocated space inside i_size: unwritten extent conversion. */
TEST_F_TIMEOUT(dio_punt, unwritten, DIO_TEST_TIMEOUT)
{
	punt_open(_metadata, self, 0, NBLOCKS);
	/* Mode 0 moves i_size too: the writes below do not extend. */
	ASSERT_EQ(0, fallocate(self->fd, 0, NBLOCKS * DIO_BS,
			       NWRITES * DIO_BS))
		TH_LOG("fallocate: %s", strerror(errno));
	ASSERT_EQ(0, fsync(self->fd));
	punt_write_check(_metadata, self, variant, QD,
			 DIO_EXPECT_TASK_CONTEXT, false, NBLOCKS);
	dio_assert_size(_metadata, self->fd, NBLOCKS + NWRITES);
}

/* Writes into a hole inside i_size: blocks allocated by the write. */
TEST_F_TIMEOUT(dio_punt, hole, DIO_TEST_TIMEOUT)
{
	punt_open(_metadata, self, 0, NBLOCKS);
	ASSERT_EQ(0, ftruncate(self->fd, (NBLOCKS + NWRITES) * DIO_BS));
	ASSERT_EQ(0, fsync(self->fd));
	punt_write_check(_metadata, self, variant, QD,
			 DIO_EXPECT_TASK_CONTEXT, false, NBLOCKS);
	dio_assert_size(_metadata, self->fd, NBLOCKS + NWRITES);
}

/* "1" or "0" from /sys/block/<dev>/queue/<attr>, or "write back" etc. */
static void queue_attr(struct __test_metadata *_metadata, const char *attr,
		       char *path, size_t plen, char *val, size_t vlen)
{
	const char *blk = dio_env_blkname();
	int ret;

	ASSERT_NE(NULL, blk) TH_LOG("DIO_TEST_DEV is not set");
	snprintf(path, plen, "/sys/block/%s/queue/%s", blk, attr);
	ret = dio_ctl_read(path, val, vlen);
	ASSERT_EQ(0, ret) TH_LOG("read %s: %s", path, strerror(-ret));
}

/*
 * O_DSYNC overwrites.  Where the device has FUA (NVMe in QEMU), a pure
 * overwrite goes out FUA and there is nothing left to sync: it may complete
 * inline with irq_writes, and must not use the workqueue (whether in
 * irq or in the issuer is timing: FUA bypasses the plug).  Without FUA and
 * with a volatile write cache (virtio-blk), the completion must flush the
 * cache, which sleeps: task context.  The device decides which branch of
 * the rule this run covers; the log says which, and dsync_write_through
 * covers the third (no volatile cache) on every device.
 */
TEST_F_TIMEOUT(dio_punt, dsync, DIO_TEST_TIMEOUT)
{
	char path[128], fua[8], wc[32];
	bool has_fua;

	queue_attr(_metadata, "fua", path, sizeof(path), fua, sizeof(fua));
	queue_attr(_metadata, "write_cache", path, sizeof(path), wc,
		   sizeof(wc));
	/* null_blk without a cache_size has none: the third branch. */
	if (dio_env_nullb_config() && !strcmp(wc, "write through"))
		SKIP(return, "%s: no volatile write cache: dsync_write_through's case",
		     dio_env_dev());
	ASSERT_STREQ("write back", wc)
		TH_LOG("%s: write_cache \"%s\" (left by an earlier test?)",
		       path, wc);
	has_fua = !strcmp(fua, "1");
	TH_LOG("%s: fua %s: %s", dio_env_dev(), fua, has_fua ?
	       "sent FUA, nothing left to sync: no workqueue with irq_writes" :
	       "the completion must flush the cache: task context");
	punt_open(_metadata, self, O_DSYNC, 0);
	if (has_fua)
		punt_write_check(_metadata, self, variant, QD,
				 DIO_EXPECT_WRITE_INLINE, true, 0);
	else
		punt_write_check(_metadata, self, variant, QD,
				 DIO_EXPECT_SYNC_WORK, false, 0);
}

/*
 * O_SYNC: metadata (the timestamps) must be on disk too, and iomap never
 * sends an O_SYNC write FUA: always a sync at completion, on any device.
 */
TEST_F_TIMEOUT(dio_punt, osync, DIO_TEST_TIMEOUT)
{
	punt_open(_metadata, self, O_SYNC, 0);
	punt_write_check(_metadata, self, variant, QD,
			 DIO_EXPECT_SYNC_WORK, false, 0);
}

/*
 * O_DSYNC with the device switched to write-through: no volatile cache to
 * flush, so the write is as good as FUA and completes inline with
 * irq_writes even without FUA (virtio-blk).  The block layer strips
 * FUA from writes to a write-through queue, so these are plain plugged
 * writes, and the irq/workqueue split is as clear-cut as for any
 * overwrite.  Teardown restores the setting, also when the test fails.
 */
TEST_F_TIMEOUT(dio_punt, dsync_write_through, DIO_TEST_TIMEOUT)
{
	char wc[32];
	int ret;

	queue_attr(_metadata, "write_cache", self->wc_path,
		   sizeof(self->wc_path), self->wc_saved,
		   sizeof(self->wc_saved));
	self->wc_changed = true;
	ret = dio_ctl_write(self->wc_path, "write through");
	ASSERT_EQ(0, ret) TH_LOG("write \"write through\" to %s: %s",
				 self->wc_path, strerror(-ret));
	ret = dio_ctl_read(self->wc_path, wc, sizeof(wc));
	ASSERT_EQ(0, ret);
	ASSERT_STREQ("write through", wc);

	punt_open(_metadata, self, O_DSYNC, 0);
	punt_write_check(_metadata, self, variant, QD,
			 DIO_EXPECT_WRITE_INLINE, false, 0);
}

/* Is the page at block @blk of @fd's file in the page cache? */
static bool cached(struct __test_metadata *_metadata, int fd, uint64_t blk)
{
	unsigned char vec;
	void *p;

	p = mmap(NULL, DIO_BS, PROT_READ, MAP_SHARED, fd, blk * DIO_BS);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, mincore(p, DIO_BS, &vec));
	munmap(p, DIO_BS);
	return vec & 1;
}

/*
 * Page cache on the file: a buffered read of block 0 first, then O_DIRECT
 * overwrites of the second half.  The write invalidates its own range
 * before submission, so only other pages can keep the mapping non-empty at
 * completion, and then the completion must invalidate (sleeps): workqueue.
 * Afterwards buffered reads see the new data, and block 0 the old.
 */
TEST_F_TIMEOUT(dio_punt, page_cache, DIO_TEST_TIMEOUT)
{
	char *buf = NULL;

	self->bfd = open(self->path, O_RDONLY);
	ASSERT_LE(0, self->bfd) TH_LOG("open %s: %s", self->path,
				       strerror(errno));
	buf = dio_alloc(DIO_BS);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)DIO_BS, pread(self->bfd, buf, DIO_BS, 0));
	free(buf);
	/* The precondition itself, or the test would prove nothing. */
	ASSERT_TRUE(cached(_metadata, self->bfd, 0))
		TH_LOG("block 0 is not in the page cache after a buffered read");

	punt_open(_metadata, self, 0, NBLOCKS - NWRITES);
	punt_write_check(_metadata, self, variant, QD,
			 DIO_EXPECT_TASK_CONTEXT, false, NBLOCKS - NWRITES);
	EXPECT_TRUE(cached(_metadata, self->bfd, 0))
		TH_LOG("block 0 left the page cache: was it there at completion?");

	dio_assert_blocks(_metadata, self->bfd, NBLOCKS - NWRITES, NWRITES,
			  SEED_NEW, "written blocks, buffered");
	dio_assert_blocks(_metadata, self->bfd, 0, NBLOCKS - NWRITES,
			  SEED_OLD, "untouched blocks, buffered");
}

TEST_HARNESS_MAIN
