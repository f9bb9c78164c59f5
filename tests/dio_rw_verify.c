// SPDX-License-Identifier: GPL-2.0
/*
 * dio_rw_verify: async O_DIRECT 4 KiB overwrites land, and land where asked.
 *
 * A 4 MiB file is preallocated and fully written (buffered, pattern "old"),
 * synced and dropped from the page cache, so that every block is a written,
 * mapped extent.  Then every block is overwritten exactly once with an
 * O_DIRECT 4 KiB write of pattern "new", in a seeded random order, keeping
 * up to QD writes in flight through io_uring or libaio.  Finally the file is
 * read back both with O_DIRECT and through a cold page cache; every word of
 * every block must be the new pattern for that block.  A stale block (old
 * pattern), a misplaced one (new pattern of another block) or a torn one
 * all fail, and the log says which.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"

#define NBLOCKS		1024u	/* 4 MiB of 4 KiB blocks */

/*
 * Arbitrary fixed seeds: the run is deterministic, so a failure reproduces
 * with the same write order.  Each variant perturbs them (see seed_of()),
 * so data left behind by an earlier variant's file cannot pass for ours.
 */
#define SEED_OLD	0x6f6c642d70617474ULL
#define SEED_NEW	0x6e65772d70617474ULL
#define SEED_ORDER	0x6f726465722d3031ULL

FIXTURE(dio_rw_verify) {
	char path[PATH_MAX];
	bool created;
	int fd;			/* O_DIRECT */
	int bfd;		/* buffered, for the page cache check */
	struct dio_engine *eng;
	char *bufs;		/* one DIO_BS buffer per in-flight write */
	uint32_t *order;	/* write order: a permutation of the blocks */
	uint8_t *written;	/* per block: completions seen */
	struct dio_cqe *cqes;
};

FIXTURE_VARIANT(dio_rw_verify) {
	const char *name;	/* the harness keeps its own name private */
	enum dio_engine_type engine;
	unsigned int qd;
};

DIO_ENGINE_QD_VARIANTS(dio_rw_verify);

static uint64_t seed_of(uint64_t base,
			const FIXTURE_VARIANT(dio_rw_verify) *variant)
{
	return base ^ ((uint64_t)variant->engine << 32) ^ variant->qd;
}

/*
 * A completion's user data: the buffer slot it used (to recycle it) and the
 * block it wrote (to check each block completes exactly once).
 */
static void *tag(unsigned int slot, uint32_t block)
{
	return (void *)(((uintptr_t)block << 16) | slot);
}

static unsigned int tag_slot(void *user)
{
	return (uintptr_t)user & 0xffff;
}

static uint32_t tag_block(void *user)
{
	return (uintptr_t)user >> 16;
}

/*
 * Log a data mismatch and what the bad block holds instead, re-reading it
 * into @buf (DIO_BS, aligned) from @fd, so a triager can tell a stale block
 * from a misplaced or torn one without rerunning.
 */
static void report_mismatch(struct __test_metadata *_metadata,
			    const char *how, int fd, void *buf,
			    const struct dio_mismatch *mm,
			    uint64_t seed_old, uint64_t seed_new)
{
	int64_t old_blk = -1, new_blk = -1;

	TH_LOG("%s: first mismatch in block %llu at byte %zu (file offset %llu): want %#018llx, got %#018llx",
	       how, (unsigned long long)mm->block, mm->offset,
	       (unsigned long long)(mm->block * DIO_BS + mm->offset),
	       (unsigned long long)mm->want, (unsigned long long)mm->got);

	if (pread(fd, buf, DIO_BS, mm->block * DIO_BS) == DIO_BS) {
		old_blk = dio_pattern_whose(buf, seed_old, NBLOCKS);
		new_blk = dio_pattern_whose(buf, seed_new, NBLOCKS);
	}
	if (new_blk >= 0)
		TH_LOG("%s: block %llu starts like block %lld of the new data%s",
		       how, (unsigned long long)mm->block, (long long)new_blk,
		       dio_selftest_fail() ?
		       " (DIO_SELFTEST_FAIL=1 expects a wrong pattern)" : "");
	else if (old_blk >= 0)
		TH_LOG("%s: block %llu starts like block %lld of the OLD data: write lost or stale",
		       how, (unsigned long long)mm->block, (long long)old_blk);
	else
		TH_LOG("%s: block %llu starts with neither pattern",
		       how, (unsigned long long)mm->block);
}

FIXTURE_SETUP(dio_rw_verify)
{
	const char *dir = dio_env_dir();
	char name[64];
	int ret;

	self->fd = -1;
	self->bfd = -1;

	/* Running outside the harness by mistake must not look like a pass. */
	ASSERT_NE(NULL, dir)
		TH_LOG("DIO_TEST_DIR is not set: it must name the mount point of the filesystem under test");

	snprintf(name, sizeof(name), "dio_rw_verify.%s", variant->name);
	ret = dio_file_path(self->path, sizeof(self->path), dir, name);
	ASSERT_EQ(0, ret) TH_LOG("path for %s in %s: %s", name, dir,
				 strerror(-ret));

	/*
	 * 6.1's harness runs FIXTURE_TEARDOWN only once setup has returned,
	 * so anything setup could leave behind on failure (the file) is
	 * cleaned up by dio_file_prepare() itself, and the rest (fds, engine,
	 * buffers) is acquired in the test body, where teardown covers it.
	 */
	ret = dio_file_prepare(self->path, NBLOCKS,
			       seed_of(SEED_OLD, variant));
	ASSERT_EQ(0, ret) TH_LOG("preparing %s: %s", self->path,
				 strerror(-ret));
	self->created = true;
}

FIXTURE_TEARDOWN(dio_rw_verify)
{
	/*
	 * No ASSERT here: in 6.1 an ASSERT longjmp()s back into the wrapper,
	 * which would run teardown again.  Tear down the engine first, so no
	 * I/O still targets the buffers or the file.
	 */
	dio_engine_exit(self->eng);
	if (self->fd >= 0)
		close(self->fd);
	if (self->bfd >= 0)
		close(self->bfd);
	free(self->bufs);
	free(self->order);
	free(self->written);
	free(self->cqes);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

TEST_F_TIMEOUT(dio_rw_verify, overwrite, DIO_TEST_TIMEOUT)
{
	uint64_t seed_old = seed_of(SEED_OLD, variant);
	uint64_t seed_new = seed_of(SEED_NEW, variant);
	uint64_t want = dio_expect_seed(seed_new);
	unsigned int qd = variant->qd;
	unsigned int slots[16], nfree = 0;
	uint32_t next = 0, done = 0;
	struct dio_mismatch mm;
	struct stat st;
	int i, n, ret;

	ASSERT_GE(ARRAY_SIZE(slots), qd);
	TH_LOG("%s qd %u, %u blocks, seeds old %#llx new %#llx order %#llx",
	       dio_engine_name(variant->engine), qd, NBLOCKS,
	       (unsigned long long)seed_old, (unsigned long long)seed_new,
	       (unsigned long long)SEED_ORDER);

	self->order = calloc(NBLOCKS, sizeof(*self->order));
	self->written = calloc(NBLOCKS, sizeof(*self->written));
	self->cqes = calloc(qd, sizeof(*self->cqes));
	self->bufs = dio_alloc((size_t)qd * DIO_BS);
	ASSERT_TRUE(self->order && self->written && self->cqes && self->bufs);
	dio_permutation(self->order, NBLOCKS, SEED_ORDER);
	for (nfree = 0; nfree < qd; nfree++)
		slots[nfree] = nfree;

	self->fd = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));

	ret = dio_engine_init(&self->eng, variant->engine, qd);
	ASSERT_EQ(0, ret) TH_LOG("%s setup, depth %u: %s",
				 dio_engine_name(variant->engine), qd,
				 strerror(-ret));

	/* Keep qd writes in flight: fill every free slot, reap >= 1, repeat. */
	while (done < NBLOCKS) {
		while (next < NBLOCKS && nfree) {
			unsigned int slot = slots[--nfree];
			uint32_t blk = self->order[next++];
			char *buf = self->bufs + (size_t)slot * DIO_BS;

			dio_pattern_fill(buf, DIO_BS, seed_new, blk);
			ret = dio_engine_queue(self->eng, DIO_OP_WRITE,
					       self->fd, buf, DIO_BS,
					       (off_t)blk * DIO_BS,
					       tag(slot, blk));
			ASSERT_EQ(0, ret) TH_LOG("queue write of block %u: %s",
						 blk, strerror(-ret));
		}
		ret = dio_engine_submit(self->eng);
		ASSERT_LE(0, ret) TH_LOG("submit: %s", strerror(-ret));

		n = dio_engine_reap(self->eng, self->cqes, 1, qd);
		ASSERT_LT(0, n) TH_LOG("reap (%u in flight): %s",
				       dio_engine_busy(self->eng),
				       n ? strerror(-n) : "nothing");

		for (i = 0; i < n; i++) {
			long long res = self->cqes[i].res;
			uint32_t blk = tag_block(self->cqes[i].user);

			ASSERT_EQ((long long)DIO_BS, res)
				TH_LOG("write of block %u (offset %llu): res %lld (%s)",
				       blk, (unsigned long long)blk * DIO_BS,
				       res, res < 0 ? strerror(-res) :
				       "short write");
			ASSERT_GT(NBLOCKS, blk);
			ASSERT_EQ(0, self->written[blk])
				TH_LOG("block %u completed twice", blk);
			self->written[blk]++;
			slots[nfree++] = tag_slot(self->cqes[i].user);
			done++;
		}
	}
	ASSERT_EQ(0u, dio_engine_busy(self->eng));

	/* Overwrites of allocated blocks must neither grow nor shrink it. */
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)NBLOCKS * DIO_BS, st.st_size);

	if (dio_selftest_fail())
		TH_LOG("DIO_SELFTEST_FAIL=1: verifying against a wrong pattern on purpose");

	/* What the device holds now, bypassing the page cache. */
	ret = dio_read_verify(self->fd, NBLOCKS, want, &mm);
	ASSERT_LE(0, ret) TH_LOG("O_DIRECT read back: %s", strerror(-ret));
	EXPECT_EQ(0, ret)
		report_mismatch(_metadata, "O_DIRECT read", self->fd,
				self->bufs, &mm, seed_old, seed_new);

	/*
	 * And through a cold page cache: catches the DIO write path leaving
	 * stale cached pages behind, or the buffered read path disagreeing.
	 */
	self->bfd = open(self->path, O_RDONLY);
	ASSERT_LE(0, self->bfd) TH_LOG("open %s: %s", self->path,
				       strerror(errno));
	ret = dio_drop_cache(self->bfd, false);
	ASSERT_EQ(0, ret) TH_LOG("fadvise DONTNEED: %s", strerror(-ret));
	ret = dio_read_verify(self->bfd, NBLOCKS, want, &mm);
	ASSERT_LE(0, ret) TH_LOG("buffered read back: %s", strerror(-ret));
	EXPECT_EQ(0, ret)
		report_mismatch(_metadata, "buffered read", self->bfd,
				self->bufs, &mm, seed_old, seed_new);
}

TEST_HARNESS_MAIN
