/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting where async dio completions run, from tracefs histogram
 * triggers.
 *
 * Histograms count in the kernel, per event, so nothing is lost however
 * fast completions arrive (a trace buffer can overrun at QD16 under TCG).
 * Two counters:
 *
 *  - workqueue:workqueue_execute_start, keyed by the work function: the
 *    iomap_dio_complete_work line counts dio completions run by the dio
 *    workqueue.  Exists on every kernel, but counts every file's dios: the
 *    tests do no other direct I/O while counting.
 *
 *    The same histogram counts overlayfs' async write completions run
 *    from its work item (ovl_work): ovl_aio_complete_work on 6.1.y,
 *    backing_aio_complete_work on mainline.
 *
 *  - iomap:iomap_dio_complete, where it has the ctx field the series adds
 *    (ctx_event in enum dio_does), keyed by the inode, the context it ran
 *    in and its error: completions of the test file per context.
 *
 * Like dio.h, this file does not include the harness; errors come back as
 * a negative errno and the pass/fail decision as a reason string.
 */
#ifndef DIO_TEST_TRACE_H
#define DIO_TEST_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dio.h"

/* iomap_dio_complete's ctx field. */
enum dio_ctx {
	DIO_CTX_TASK,		/* the issuer, e.g. its own last reference */
	DIO_CTX_WORKQUEUE,	/* s_dio_done_wq */
	DIO_CTX_IRQ,		/* straight from the bio end_io */
	DIO_CTX_ISSUER,		/* handed to the issuer, run by its task_work */
	DIO_CTX_TAKEN_BACK,	/* handed to the issuer, run by inode_dio_wait() */
	DIO_CTX_NR,
};

struct dio_counts {
	/* iomap_dio_complete_work items run, any file. */
	uint64_t dio_work;
	/* overlayfs' write completion work items run, any file. */
	uint64_t ovl_work;
	/* io_uring requests sent to io-wq (io_uring_queue_async_work). */
	uint64_t iowq_punts;
	/* The ctx counters below were collected (the event exists). */
	bool have_event;
	/* The event names the issuer and taken_back contexts. */
	bool have_handback;
	/* iomap_dio_complete per ctx, for the traced inode. */
	uint64_t ctx[DIO_CTX_NR];
	/* ... of those, completions with a nonzero error. */
	uint64_t err_ctx[DIO_CTX_NR];
	/* One of the nonzero errors seen (negative errno), else 0. */
	int error;
	/*
	 * Completions with -EAGAIN: an io_uring IOCB_NOWAIT attempt the
	 * filesystem refused (it would block), retried from io-wq.  They
	 * never reach user space and are not counted in ctx[] above.
	 */
	uint64_t nowait_retries;
};

struct dio_trace {
	uint64_t ino;		/* whose iomap completions to count */
	bool wq_armed;
	bool iowq_armed;
	bool ev_armed;
};

/* Does this kernel have the iomap:iomap_dio_complete event? */
bool dio_trace_have_event(void);

/*
 * Arm the counters for inode @ino: the workqueue and io-wq histograms
 * always, the iomap one when the event exists.  A copy of the same trigger
 * left by an earlier test that was killed is removed first.  Returns 0, or
 * a negative errno with nothing left armed.
 */
int dio_trace_start(struct dio_trace *t, uint64_t ino);

/*
 * Read the counters so far into @c, leaving them armed: from any process,
 * e.g. a test's child checking what completed at some point.  Returns 0 or
 * a negative errno.
 */
int dio_trace_read(const struct dio_trace *t, struct dio_counts *c);

/*
 * Read the counters into @c and disarm (removing a hist trigger also
 * frees its counts, so the next test starts from zero).  Every completion
 * of an I/O already reaped has been counted: both events fire before the
 * completion reaches user space.  Returns 0 or a negative errno; the
 * triggers are removed either way.
 */
int dio_trace_stop(struct dio_trace *t, struct dio_counts *c);

/*
 * The parsers behind dio_trace_stop(), on histogram text as tracefs
 * prints it (exposed for the host-side test, tests/host/hist-parse.t):
 * add the iomap_dio_complete_work hits of a workqueue_execute_start
 * histogram to @c->dio_work and overlayfs' to @c->ovl_work, or inode
 * @ino's entries of an iomap_dio_complete histogram to @c's per-context
 * counts.  Returns 0, or -EPROTO for text that is not such a histogram.
 */
int dio_hist_count_work(const char *text, struct dio_counts *c);
int dio_hist_count_event(const char *text, uint64_t ino,
			 struct dio_counts *c);

/* Disarm without reading; safe to call again, for teardown. */
void dio_trace_disarm(struct dio_trace *t);

/*
 * Count iomap_dio_rw_queued events, async dios whose submitter returned
 * with the I/O still in flight, from dio_queued_start() (-ENOENT on a
 * kernel without the event: 6.1's baseline) to dio_queued_stop();
 * dio_queued_count() reads those of inode @ino so far.
 */
int dio_queued_start(void);
int dio_queued_count(uint64_t ino, uint64_t *n);
void dio_queued_stop(void);

/* "dio_work N, task N, workqueue N, irq N, errors N/N/N": for a TH_LOG. */
void dio_counts_describe(const struct dio_counts *c, char *buf, size_t len);

/*
 * What a test expects of the completions it counted.
 *
 * Who completes an async dio is decided by who drops the last reference:
 * the bio end_io (then irq, or the workqueue it punts to) or the issuer
 * itself, when the bio finished before the issuer dropped its submission
 * reference.  The second happens whenever the bio reaches the device
 * before the issuer is done: a submission outside a plug (io_uring and
 * libaio plug only batches of more than two; io_uring's io-wq, which
 * retries what failed with IOCB_NOWAIT, never does), and FUA writes,
 * which bypass the plug.  Under TCG that is often, up to every I/O of a
 * run: completions in the issuer are legitimate on both kernels and can
 * never be asserted away.  So "the workqueue ran" and "irq completions
 * happened" are asserted only where the caller says
 * the submission was @plugged: libaio batches of more than two, or enough
 * io_uring I/Os that some surely went out in a plugged batch; but not
 * when io_uring sent any of them to io-wq (iowq_punts), which issues
 * one at a time, unplugged.
 */
enum dio_expect {
	/*
	 * A write that needs task context at completion (a punt rule):
	 * no completion of the file in irq context (seen with ctx_event).
	 * @plugged: the workqueue ran (both kernels).
	 */
	DIO_EXPECT_TASK_CONTEXT,
	/*
	 * A write the filesystem waits for in the issuing task (ext4 makes
	 * every extending write synchronous, IOMAP_DIO_FORCE_WAIT), which
	 * then completes it itself: no workqueue on any kernel, and with
	 * ctx_event every completion of the file in the task.
	 */
	DIO_EXPECT_ISSUER,
	/*
	 * A write that needs nothing at completion (a pure overwrite, or an
	 * O_DSYNC one sent FUA or to a write-through device): with
	 * irq_writes no workqueue, and @plugged, irq completions (seen with
	 * ctx_event); without irq_writes, @plugged: the workqueue ran.  So
	 * the same test tells 6.1.y's two kernels apart.
	 */
	DIO_EXPECT_WRITE_INLINE,
	/*
	 * A read: no workqueue on any kernel.  @plugged: irq completions
	 * (seen with ctx_event).
	 */
	DIO_EXPECT_READ_INLINE,
	/*
	 * A write that must sync at completion (O_SYNC, or O_DSYNC without
	 * FUA to a volatile cache): as DIO_EXPECT_TASK_CONTEXT, and never
	 * handed to the issuer (handback_ctx), whose later completions the
	 * sync would hold up.
	 */
	DIO_EXPECT_SYNC_WORK,
};

/*
 * Does @c match what a kernel that does @does (enum dio_does bits,
 * dio_env_does()) must show: the iomap_dio_complete ctx field counted if
 * and only if ctx_event is declared, its issuer and taken_back values if
 * and only if handback_ctx is, and @does known?  Returns 0 when it does,
 * else 1 with the reason in @why.
 */
int dio_counts_declared(const struct dio_counts *c, int does, char *why,
			size_t len);

/*
 * Check @c, counted over @nr_io I/Os of the traced file, against @e on a
 * kernel that does @does (enum dio_does bits, dio_env_does(); see enum
 * dio_expect for @plugged).  Returns 0 when it holds, else 1 with the
 * reason in @why.  dio_counts_declared() must hold first.
 * Besides @e, the counts must add up (each I/O completes once, the
 * workqueue ran only this file's dios), so a counter that silently reads
 * zero cannot pass for "no workqueue".
 */
int dio_counts_check(const struct dio_counts *c, enum dio_expect e,
		     bool plugged, int does, uint32_t nr_io,
		     char *why, size_t len);

#endif /* DIO_TEST_TRACE_H */
