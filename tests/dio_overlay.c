// SPDX-License-Identifier: GPL-2.0
/*
 * dio_overlay: async O_DIRECT writes through overlayfs finish overlayfs'
 * side of the write in task context, whatever context the real filesystem
 * completed them in, and the real file never hands a completion back.
 *
 * overlayfs passes an async write on to the upper (real) file with a kiocb
 * of its own.  When ext4 or XFS completes that, overlayfs ends the caller's
 * write: it ends freeze protection and copies the real inode's size and
 * timestamps into the overlay inode (i_size_write() without i_rwsem).  Once
 * the real filesystem completes pure overwrites from the bio, that must not
 * run there.  A kernel that declares ovl_task (enum dio_does) runs it from
 * a work item of overlayfs' own, counted here (ovl_work); a kernel that
 * completes writes in irq context (irq_writes) without it fails.
 *
 * overlayfs' completion runs once for every write that the real filesystem
 * completed asynchronously: in irq context or on the dio workqueue (handed
 * to the issuer: never, below).  A write whose submitter held the last
 * reference returns to overlayfs synchronously and finishes in the
 * submitting task.  So where the event counts contexts (ctx_event), the
 * work items must equal the file's irq and workqueue completions exactly.
 *
 * overlayfs' completion can only pass on a final result, so the caller
 * completion flag that io_uring sets must not reach the real file: writes
 * into unwritten space complete on the workqueue, never "issuer" or
 * "taken_back", with their full length, and the data reads back.
 *
 * The two files are prepared in the upper directory before the overlay is
 * mounted, so that they are upper files whose blocks are written and
 * mapped ("written": pure overwrites) or fallocated ("unwritten").
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/trace.h"
#include "lib/expect.h"

#define NBLOCKS		64u

#define SEED_OLD	0x6f7665726c617931ULL
#define SEED_NEW	0x6f7665726c617932ULL
#define SEED_ORDER	0x6f7665726c617933ULL

FIXTURE(dio_overlay) {
	char root[PATH_MAX];	/* lower/, upper/, work/ and merged/ */
	bool created;
	bool mounted;
	int fd;
	struct dio_trace trace;
	uint64_t blocks[NBLOCKS];
};

FIXTURE_VARIANT(dio_overlay) {
	const char *name;
	enum dio_engine_type engine;
	unsigned int qd;
};

DIO_ENGINE_QD_VARIANTS(dio_overlay);

/*
 * overlayfs has no FMODE_NOWAIT, so io_uring issues every write to it from
 * io-wq, one at a time and unplugged: those may complete in their
 * submitter.  libaio submits a batch of more than two under a plug, which
 * overlayfs passes on, so at QD16 its writes reach the device only after
 * their submitter is done (see enum dio_expect).
 */
static bool plugged(const FIXTURE_VARIANT(dio_overlay) *variant)
{
	return variant->engine == DIO_ENGINE_LIBAIO && variant->qd > 2;
}

/* "@root/@fmt..." into @buf; 0, or -ENAMETOOLONG. */
static int ovl_path(char *buf, size_t len, const char *root,
		    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ovl_path(char *buf, size_t len, const char *root,
		    const char *fmt, ...)
{
	char rel[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	n = snprintf(buf, len, "%s/%s", root, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int ovl_rm(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) ? -errno : 0;
}

FIXTURE_SETUP(dio_overlay)
{
	static const char * const dirs[] = { "lower", "upper", "work",
					     "merged" };
	const char *dir = dio_env_dir();
	char path[PATH_MAX], opts[3 * PATH_MAX + 64];
	uint32_t order[NBLOCKS];
	unsigned int i;
	int fd, ret;

	self->fd = -1;
	ASSERT_NE(NULL, dir)
		TH_LOG("DIO_TEST_DIR is not set: it must name the mount point of the filesystem under test");
	snprintf(path, sizeof(path), "dio_overlay.%s", variant->name);
	ASSERT_EQ(0, dio_file_path(self->root, sizeof(self->root), dir, path));
	ASSERT_EQ(0, mkdir(self->root, 0755))
		TH_LOG("mkdir %s: %s", self->root, strerror(errno));
	self->created = true;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root, "%s",
				      dirs[i]));
		ASSERT_EQ(0, mkdir(path, 0755))
			TH_LOG("mkdir %s: %s", path, strerror(errno));
	}

	ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root, "upper/written"));
	ret = dio_file_prepare(path, NBLOCKS, SEED_OLD);
	ASSERT_EQ(0, ret) TH_LOG("preparing %s: %s", path, strerror(-ret));
	ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root,
			      "upper/unwritten"));
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
	ASSERT_LE(0, fd) TH_LOG("create %s: %s", path, strerror(errno));
	ret = fallocate(fd, 0, 0, (off_t)NBLOCKS * DIO_BS) ? -errno : 0;
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("fallocate %s: %s", path, strerror(-ret));

	ASSERT_GT((int)sizeof(opts),
		  snprintf(opts, sizeof(opts),
			   "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work",
			   self->root, self->root, self->root));
	ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root, "merged"));
	ASSERT_EQ(0, mount("overlay", path, "overlay", 0, opts))
		TH_LOG("mounting overlayfs on %s: %s%s", path, strerror(errno),
		       errno == ENODEV ?
		       " (the test kernel lacks CONFIG_OVERLAY_FS)" : "");
	self->mounted = true;

	/* Every block once, in a random order: no two I/Os share a block. */
	dio_permutation(order, NBLOCKS, SEED_ORDER ^ variant->qd);
	for (i = 0; i < NBLOCKS; i++)
		self->blocks[i] = order[i];
}

FIXTURE_TEARDOWN(dio_overlay)
{
	char path[PATH_MAX];

	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	dio_trace_disarm(&self->trace);
	if (self->fd >= 0)
		close(self->fd);
	if (self->mounted &&
	    (ovl_path(path, sizeof(path), self->root, "merged") ||
	     umount(path))) {
		TH_LOG("umount %s: %s", path, strerror(errno));
		return;
	}
	if (self->created &&
	    nftw(self->root, ovl_rm, 16, FTW_DEPTH | FTW_PHYS))
		TH_LOG("removing %s: %s", self->root, strerror(errno));
}

/*
 * Open @name through the overlay, O_DIRECT, and write every block of it
 * once with pattern SEED_NEW, counting the completions of the upper file.
 */
static void write_counted(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dio_overlay) *self,
			  const FIXTURE_VARIANT(dio_overlay) *variant,
			  const char *name, struct dio_counts *c)
{
	struct dio_run r = {
		.engine = variant->engine,
		.qd = variant->qd,
		.op = DIO_OP_WRITE,
		.blocks = self->blocks,
		.nr = NBLOCKS,
		.seed = SEED_NEW,
	};
	char path[PATH_MAX], what[64];
	struct stat st;
	int ret;

	/* The iomap event names the real inode, the upper file's. */
	ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root, "upper/%s",
			      name));
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %s", path,
					     strerror(errno));
	ASSERT_EQ(0, ovl_path(path, sizeof(path), self->root, "merged/%s",
			      name));
	self->fd = open(path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", path,
				      strerror(errno));
	r.fd = self->fd;

	dio_count_start_ino(_metadata, &self->trace, st.st_ino);
	ret = dio_run_io(&r);
	snprintf(what, sizeof(what), "%s qd %u, %u writes through overlayfs",
		 dio_engine_name(r.engine), r.qd, r.nr);
	dio_count_stop(_metadata, &self->trace, c, what);
	DIO_ASSERT_RUN_OK(&r, ret);
	DIO_ASSERT_DECLARED(c);
}

/*
 * overlayfs' side of the writes counted in @c: see the top of the file.
 * Without the event, only that its work ran at all where the real
 * filesystem surely completed some writes asynchronously (@plugged).
 */
static void check_overlay(struct __test_metadata *_metadata,
			  const struct dio_counts *c, bool plugged)
{
	const uint64_t *ctx = c->ctx;
	int does = dio_env_does();

	TH_LOG("overlayfs completion work items run: %llu",
	       (unsigned long long)c->ovl_work);
	EXPECT_EQ(0, ctx[DIO_CTX_ISSUER] + ctx[DIO_CTX_TAKEN_BACK])
		TH_LOG("the real file handed completions back: overlayfs passed IOCB_DIO_CALLER_COMP on");
	if (!(does & DIO_DOES_OVL_TASK)) {
		EXPECT_FALSE(does & DIO_DOES_IRQ_WRITES)
			TH_LOG("irq_writes without ovl_task: overlayfs would finish writes in interrupt context");
		EXPECT_EQ(0, c->ovl_work)
			TH_LOG("overlayfs' completion work ran on a kernel that does not declare ovl_task");
		return;
	}
	EXPECT_GE(NBLOCKS, c->ovl_work);
	if (c->have_event) {
		EXPECT_EQ(ctx[DIO_CTX_IRQ] + ctx[DIO_CTX_WORKQUEUE] +
			  ctx[DIO_CTX_ISSUER] + ctx[DIO_CTX_TAKEN_BACK],
			  c->ovl_work)
			TH_LOG("every write the real file completed asynchronously must finish in overlayfs' work item");
	} else if (plugged) {
		EXPECT_LT(0, c->ovl_work)
			TH_LOG("no write finished in overlayfs' work item");
	}
}

/*
 * Pure overwrites of the upper file: the real filesystem completes them as
 * it completes its own (in irq context with irq_writes), overlayfs' side
 * runs in its work item, and every block holds the new data.
 */
TEST_F_TIMEOUT(dio_overlay, overwrite, DIO_TEST_TIMEOUT)
{
	struct dio_counts c;

	write_counted(_metadata, self, variant, "written", &c);
	DIO_EXPECT_COUNTS(&c, DIO_EXPECT_WRITE_INLINE, plugged(variant),
			  NBLOCKS);
	check_overlay(_metadata, &c, plugged(variant));
	dio_assert_blocks(_metadata, self->fd, 0, NBLOCKS, SEED_NEW,
			  "O_DIRECT read back through overlayfs");
}

/*
 * Writes into unwritten space need task context at completion, and the
 * real file must not hand them to io_uring's issuer through overlayfs.
 */
TEST_F_TIMEOUT(dio_overlay, unwritten, DIO_TEST_TIMEOUT)
{
	struct dio_counts c;

	write_counted(_metadata, self, variant, "unwritten", &c);
	DIO_EXPECT_COUNTS(&c, DIO_EXPECT_TASK_CONTEXT, plugged(variant),
			  NBLOCKS);
	check_overlay(_metadata, &c, plugged(variant));
	dio_assert_blocks(_metadata, self->fd, 0, NBLOCKS, SEED_NEW,
			  "O_DIRECT read back through overlayfs");
}

TEST_HARNESS_MAIN
