// SPDX-License-Identifier: GPL-2.0
/*
 * dio_error: an async O_DIRECT write that fails comes back to user space
 * as -EIO (CQE res / io_event res), and its completion never runs in irq
 * context: error completions always go to task context (the workqueue, or
 * the issuer when it holds the last reference), whatever the write was.
 *
 * The write is a pure overwrite, exactly what the series completes inline
 * when it succeeds: the test shows that the error alone sends it to task
 * context.  The error comes from fault injection on the test device:
 *
 *  - NVMe: the driver's completion-time injection (debugfs
 *    <disk>/fault_inject), which replaces the status of a completing
 *    request in the irq completion path, exactly where a real device
 *    error arrives.  Status 0x4 (Data Transfer Error) is not one of the
 *    statuses nvme_error_status() maps specially, so it becomes
 *    BLK_STS_IOERR, -EIO; DNR (dont_retry) stops the retry.
 *  - virtio-blk: it has no completion-time injection; fail_make_request
 *    fails the bio at submission instead, in the issuing task, so the dio
 *    completes in the issuer.  That still proves -EIO reaches user space
 *    and no error completion runs in irq, but not that an error arriving
 *    in irq context is punted: the NVMe and null_blk runs show that.
 *  - the guest's null_blk disk (DIO_TEST_NULLB_CONFIG): the test write's
 *    block is marked bad (configfs "badblocks"), so exactly that write
 *    fails, and it fails from the disk's completion timer, in irq context,
 *    long after the submitter returned.  There the error completion must
 *    have run on the workqueue, every time: neither inline nor in the
 *    issuer.
 *
 * Injection fails the next request to the disk, whoever sent it: the
 * filesystem is synced first and the window is one write long (and the
 * guest makes ext4 without lazy inode-table init, whose background zeroing
 * would otherwise be the likeliest victim).  If the fault was spent on
 * another request, the attempt is logged and repeated, and after
 * MAX_ATTEMPTS the test fails saying so: it never passes on a write that
 * did not fail.  Afterwards the filesystem must still work (the next test
 * runs on it): overwrite, fsync and verify.
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

#define NBLOCKS		16u
#define BAD_BLOCK	5u
#define MAX_ATTEMPTS	3	/* when background I/O takes the fault */

#define SEED_OLD	0x6572726f722d6f6cULL
#define SEED_NEW	0x6572726f722d6e65ULL
#define SEED_AFTER	0x6572726f722d6166ULL

#define DEBUGFS		"/sys/kernel/debug"
#define FAIL_MAKE_REQ	DEBUGFS "/fail_make_request"

enum inject {
	INJECT_NONE,
	INJECT_NVME,		/* completion time, irq */
	INJECT_MAKE_REQUEST,	/* submission time, issuing task */
	INJECT_NULLB,		/* a bad block, timer completion, irq */
};

FIXTURE(dio_error) {
	char path[PATH_MAX];
	bool created;
	int fd;
	struct dio_trace trace;
	enum inject inject;
	char fault_dir[128];	/* the fault_attr directory in debugfs */
	char make_it_fail[128];	/* /sys/block/<dev>/make-it-fail */
	char bad_range[48];	/* null_blk: the test write's sectors, "S-E" */
	bool armed;
};

FIXTURE_VARIANT(dio_error) {
	const char *name;
	enum dio_engine_type engine;
};

FIXTURE_VARIANT_ADD(dio_error, io_uring) {
	.name = "io_uring",
	.engine = DIO_ENGINE_IO_URING,
};

FIXTURE_VARIANT_ADD(dio_error, libaio) {
	.name = "libaio",
	.engine = DIO_ENGINE_LIBAIO,
};

/* Write @val to @name in the fault_attr directory. */
static int fault_set(FIXTURE_DATA(dio_error) *self, const char *name,
		     const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", self->fault_dir, name);
	return dio_ctl_write(path, val);
}

/* Mark ('+') or clear ('-') the test write's sectors as bad on null_blk. */
static int nullb_badblocks(FIXTURE_DATA(dio_error) *self, char op)
{
	char path[192], val[64];

	snprintf(path, sizeof(path), "%s/badblocks", self->fault_dir);
	snprintf(val, sizeof(val), "%c%s", op, self->bad_range);
	return dio_ctl_write(path, val);
}

/*
 * Disarm: probability 0 stops the injection whatever "times" says, and
 * make-it-fail 0 takes the disk out of fail_make_request.  Safe to call
 * when nothing is armed; teardown calls it too.
 */
static int disarm(FIXTURE_DATA(dio_error) *self)
{
	int ret = 0;

	if (self->inject == INJECT_NONE)
		return 0;
	if (self->inject == INJECT_NULLB) {
		ret = nullb_badblocks(self, '-');
		if (!ret)
			self->armed = false;
		return ret;
	}
	if (self->inject == INJECT_MAKE_REQUEST)
		ret = dio_ctl_write(self->make_it_fail, "0");
	if (fault_set(self, "probability", "0") && !ret)
		ret = -EIO;
	if (!ret)
		self->armed = false;
	return ret;
}

FIXTURE_SETUP(dio_error)
{
	self->fd = -1;
	dio_setup_file(_metadata, self->path, sizeof(self->path), "dio_error",
		       variant->name, NBLOCKS, SEED_OLD);
	self->created = true;
}

FIXTURE_TEARDOWN(dio_error)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	if (self->armed && disarm(self))
		TH_LOG("could not disarm fault injection in %s", self->fault_dir);
	dio_trace_disarm(&self->trace);
	if (self->fd >= 0)
		close(self->fd);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/*
 * Pick the injection point for DIO_TEST_DEV; SKIP (with the reason) on a
 * kernel without fault injection in debugfs, e.g. the bench kernel.
 */
static void pick_injection(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dio_error) *self)
{
	const char *blk = dio_env_blkname();

	ASSERT_NE(NULL, blk) TH_LOG("DIO_TEST_DEV is not set");
	if (dio_env_nullb_config()) {
		snprintf(self->fault_dir, sizeof(self->fault_dir), "%s",
			 dio_env_nullb_config());
		self->inject = INJECT_NULLB;
	} else if (!strncmp(blk, "nvme", 4)) {
		snprintf(self->fault_dir, sizeof(self->fault_dir),
			 DEBUGFS "/%s/fault_inject", blk);
		if (access(self->fault_dir, F_OK))
			SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION_DEBUG_FS or debugfs",
			     self->fault_dir);
		self->inject = INJECT_NVME;
	} else {
		snprintf(self->fault_dir, sizeof(self->fault_dir), "%s",
			 FAIL_MAKE_REQ);
		snprintf(self->make_it_fail, sizeof(self->make_it_fail),
			 "/sys/block/%s/make-it-fail", blk);
		if (access(self->fault_dir, F_OK) ||
		    access(self->make_it_fail, F_OK))
			SKIP(return, "no %s or %s: kernel without CONFIG_FAIL_MAKE_REQUEST or debugfs",
			     self->fault_dir, self->make_it_fail);
		self->inject = INJECT_MAKE_REQUEST;
	}
}

/*
 * Set up the fault for exactly one failure, leaving the final switch
 * (probability, or make-it-fail) for arm().
 */
static void prepare_fault(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dio_error) *self)
{
	uint64_t phys;

	if (self->inject == INJECT_NULLB) {
		/* Only the test write touches its block: no fault_attr. */
		ASSERT_EQ(0, dio_file_physical(self->fd,
					       (off_t)BAD_BLOCK * DIO_BS,
					       &phys))
			TH_LOG("FIEMAP of block %u of %s", BAD_BLOCK,
			       self->path);
		snprintf(self->bad_range, sizeof(self->bad_range),
			 "%llu-%llu", (unsigned long long)(phys >> 9),
			 (unsigned long long)((phys + DIO_BS) >> 9) - 1);
		return;
	}
	/* From here on, teardown disarms whatever happens. */
	self->armed = true;
	ASSERT_EQ(0, fault_set(self, "probability", "0"));
	ASSERT_EQ(0, fault_set(self, "interval", "1"));
	ASSERT_EQ(0, fault_set(self, "times", "1"));
	/* One console line per injected failure, no stack dump. */
	ASSERT_EQ(0, fault_set(self, "verbose", "1"));
	if (self->inject == INJECT_NVME) {
		ASSERT_EQ(0, fault_set(self, "status", "0x4"));
		ASSERT_EQ(0, fault_set(self, "dont_retry", "1"));
	} else {
		ASSERT_EQ(0, fault_set(self, "probability", "100"));
	}
}

static void arm(struct __test_metadata *_metadata,
		FIXTURE_DATA(dio_error) *self)
{
	int ret;

	if (self->inject == INJECT_NVME) {
		ret = fault_set(self, "probability", "100");
	} else if (self->inject == INJECT_NULLB) {
		/* From here on, teardown clears the bad block. */
		self->armed = true;
		ret = nullb_badblocks(self, '+');
	} else {
		ret = dio_ctl_write(self->make_it_fail, "1");
	}
	ASSERT_EQ(0, ret) TH_LOG("arming the fault: %s", strerror(-ret));
}

TEST_F_TIMEOUT(dio_error, overwrite_eio, DIO_TEST_TIMEOUT)
{
	uint64_t bad = BAD_BLOCK, all[NBLOCKS];
	char times[16], path[192];
	struct dio_counts c;
	struct dio_run r = {
		.engine = variant->engine,
		.qd = 1,
		.op = DIO_OP_WRITE,
		.blocks = &bad,
		.nr = 1,
		.seed = SEED_NEW,
	};
	unsigned int i;
	int attempt, ret;

	pick_injection(_metadata, self);
	if (self->inject == INJECT_NONE)
		return;		/* skipped */
	TH_LOG("%s: %s injection via %s", dio_env_dev(),
	       self->inject == INJECT_MAKE_REQUEST ? "submission-time" :
	       "completion-time (irq)", self->fault_dir);

	self->fd = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open O_DIRECT %s: %s", self->path,
				      strerror(errno));
	r.fd = self->fd;
	snprintf(path, sizeof(path), "%s/times", self->fault_dir);
	for (attempt = 1; ; attempt++) {
		prepare_fault(_metadata, self);
		/* Nothing of ours left to write back that the fault could hit. */
		sync();
		dio_count_start(_metadata, &self->trace, self->fd);
		arm(_metadata, self);
		ret = dio_run_io(&r);
		ASSERT_EQ(0, disarm(self)) TH_LOG("disarming the fault");
		dio_count_stop(_metadata, &self->trace, &c, "the failing write");
		ASSERT_LE(0, ret) TH_LOG("engine failure: %s", strerror(-ret));
		/* A bad block fails only the test write: nothing to retry. */
		if (self->inject == INJECT_NULLB)
			break;
		ASSERT_EQ(0, dio_ctl_read(path, times, sizeof(times)));
		if (ret || strcmp(times, "0"))
			break;
		/*
		 * The write succeeded and the fault was spent: background
		 * I/O of the filesystem (a journal commit, log covering)
		 * got it.  Say so, and try again a few times; never pass.
		 */
		TH_LOG("attempt %d: the injected fault hit another request to %s, not the test write",
		       attempt, dio_env_dev());
		ASSERT_GT(MAX_ATTEMPTS, attempt)
			TH_LOG("giving up: the fault never hit the test write in %d attempts",
			       attempt);
	}
	if (self->inject == INJECT_NULLB) {
		ASSERT_NE(0, ret) TH_LOG("the write to the bad block did not fail");
	} else {
		ASSERT_NE(0, ret)
			TH_LOG("the fault never fired (times still %s)", times);
	}
	ASSERT_EQ(DIO_RUN_BAD_RES, ret);
	ASSERT_EQ(-EIO, r.bad_res)
		TH_LOG("the failed write returned %lld (%s), not -EIO",
		       r.bad_res, strerror((int)-r.bad_res));
	if (self->inject != INJECT_NULLB) {
		EXPECT_STREQ("0", times)
			TH_LOG("the fault did not fire exactly once");
	}

	/*
	 * Where it completed.  A kernel without ctx_event has no per-file
	 * context to show (6.1's baseline never completes an async write in
	 * irq context anyway; mainline's runs every error completion in task
	 * context since 6.19): it is checked by -EIO alone.  With ctx_event
	 * the event must show one error completion of the file, -EIO, not in
	 * irq: on the workqueue, or in the issuer when that held the last
	 * reference (always so for a submission-time failure).
	 */
	DIO_ASSERT_DECLARED(&c);
	if (c.have_event) {
		EXPECT_EQ(1, c.err_ctx[DIO_CTX_TASK] +
			     c.err_ctx[DIO_CTX_WORKQUEUE] +
			     c.err_ctx[DIO_CTX_IRQ])
			TH_LOG("expected exactly one error completion of the file");
		EXPECT_EQ(-EIO, c.error);
		EXPECT_EQ(0, c.ctx[DIO_CTX_IRQ])
			TH_LOG("an error completion ran in irq context");
		if (self->inject == INJECT_NVME)
			TH_LOG("error completion ran in %s",
			       c.err_ctx[DIO_CTX_WORKQUEUE] ? "the workqueue" :
			       "the issuing task");
		if (self->inject == INJECT_NULLB) {
			EXPECT_EQ(1, c.err_ctx[DIO_CTX_WORKQUEUE])
				TH_LOG("the error arrived in irq context after the submitter returned: its completion must run on the workqueue");
		}
	}

	/* The filesystem still works: overwrite everything, sync, verify. */
	for (i = 0; i < NBLOCKS; i++)
		all[i] = i;
	r.blocks = all;
	r.nr = NBLOCKS;
	r.qd = 4;
	r.seed = SEED_AFTER;
	ret = dio_run_io(&r);
	DIO_ASSERT_RUN_OK(&r, ret);
	ASSERT_EQ(0, fsync(self->fd))
		TH_LOG("fsync after the error: %s", strerror(errno));
	dio_assert_blocks(_metadata, self->fd, 0, NBLOCKS, SEED_AFTER,
			  "after the error, O_DIRECT");
}

TEST_HARNESS_MAIN
