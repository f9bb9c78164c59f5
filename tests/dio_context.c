// SPDX-License-Identifier: GPL-2.0
/*
 * dio_context: where an async O_DIRECT completion runs.
 *
 * The point of the series: an async 4 KiB O_DIRECT overwrite of a written,
 * mapped block, with no page cache on the file and no O_(D)SYNC, needs
 * nothing at completion that cannot run in the bio end_io.  On a kernel
 * that does irq_writes (enum dio_does: 6.1.y's patched kernel, both of
 * mainline's) it must complete there (irq context, or in the issuer when
 * that held the last reference) and never touch the dio workqueue; on
 * 6.1's baseline every async write that the issuer does not complete
 * itself goes through the workqueue.  The same test asserts each kernel's
 * behaviour, so it tells 6.1.y's two apart.
 *
 * Async reads have always completed inline: no workqueue on any kernel.
 *
 * Completions are counted with histogram triggers (lib/trace.h); the data
 * is checked afterwards, so a fast path that loses or misplaces a write
 * fails too.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/trace.h"
#include "lib/expect.h"

#define NBLOCKS		64u

#define SEED_OLD	0x636f6e7465787431ULL
#define SEED_NEW	0x636f6e7465787432ULL
#define SEED_ORDER	0x636f6e7465787433ULL

FIXTURE(dio_context) {
	char path[PATH_MAX];
	bool created;
	int fd;
	struct dio_trace trace;
	uint64_t blocks[NBLOCKS];
};

FIXTURE_VARIANT(dio_context) {
	const char *name;
	enum dio_engine_type engine;
	unsigned int qd;
};

DIO_ENGINE_QD_VARIANTS(dio_context);

/*
 * At QD16 both engines submit in batches of more than two, which they
 * plug: the issuer drops its references before any bio reaches the
 * device, so completions cannot land in the issuer (see enum dio_expect),
 * and the irq/workqueue counts must show.  At QD1 nothing is plugged and
 * under TCG the issuer often completes its own I/O: only "no workqueue"
 * is asserted there.
 */
static bool plugged(const FIXTURE_VARIANT(dio_context) *variant)
{
	return variant->qd > 2;
}

FIXTURE_SETUP(dio_context)
{
	uint32_t order[NBLOCKS];
	unsigned int i;

	self->fd = -1;
	dio_setup_file(_metadata, self->path, sizeof(self->path),
		       "dio_context", variant->name, NBLOCKS, SEED_OLD);
	self->created = true;

	/* Every block once, in a random order: no two I/Os share a block. */
	dio_permutation(order, NBLOCKS, SEED_ORDER ^ variant->qd);
	for (i = 0; i < NBLOCKS; i++)
		self->blocks[i] = order[i];
}

FIXTURE_TEARDOWN(dio_context)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	dio_trace_disarm(&self->trace);
	if (self->fd >= 0)
		close(self->fd);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/*
 * Pure overwrites: inline (irq) with irq_writes, else the workqueue; and
 * every block holds the new data afterwards.
 */
TEST_F_TIMEOUT(dio_context, overwrite, DIO_TEST_TIMEOUT)
{
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = variant->qd,
		.op = DIO_OP_WRITE,
		.blocks = self->blocks,
		.nr = NBLOCKS,
		.seed = SEED_NEW,
	};
	int ret;

	self->fd = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));
	r.fd = self->fd;

	ret = dio_run_counted(_metadata, &self->trace, &r, &c);
	DIO_ASSERT_RUN_OK(&r, ret);
	DIO_EXPECT_COUNTS(&c, DIO_EXPECT_WRITE_INLINE, plugged(variant), NBLOCKS);

	dio_assert_blocks(_metadata, self->fd, 0, NBLOCKS, SEED_NEW,
			  "O_DIRECT read back");
}

/* Async O_DIRECT reads complete inline on both kernels, with right data. */
TEST_F_TIMEOUT(dio_context, read, DIO_TEST_TIMEOUT)
{
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = variant->qd,
		.op = DIO_OP_READ,
		.blocks = self->blocks,
		.nr = NBLOCKS,
		.seed = SEED_OLD,
	};
	int ret;

	self->fd = open(self->path, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));
	r.fd = self->fd;

	ret = dio_run_counted(_metadata, &self->trace, &r, &c);
	DIO_ASSERT_RUN_OK(&r, ret);
	DIO_EXPECT_COUNTS(&c, DIO_EXPECT_READ_INLINE, plugged(variant), NBLOCKS);
}

TEST_HARNESS_MAIN
