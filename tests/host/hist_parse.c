// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side check of the histogram parsers and the judge in
 * tests/lib/trace.c, on histogram text captured from the guest
 * (hist-samples/): every completion-context assertion of the guest tests
 * rests on them, and a parser that silently counts nothing would turn
 * "no workqueue completion" into a pass.  Prints TAP.
 * Usage: hist_parse SAMPLES_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/dio.h"
#include "../lib/trace.h"

static int n, failed;

static void check(int ok, const char *name, const char *why)
{
	n++;
	if (ok) {
		printf("ok %d hist_parse.%s\n", n, name);
		return;
	}
	failed++;
	printf("not ok %d hist_parse.%s # %s\n", n, name, why);
}

static char *sample(const char *dir, const char *name)
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (dio_ctl_read_all(path, &text)) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	return text;
}

/* The judge on @c: returns dio_counts_check()'s verdict. */
static int judge(const struct dio_counts *c, enum dio_expect e, bool plugged,
		 int does, uint32_t nr)
{
	char why[256];

	return dio_counts_check(c, e, plugged, does, nr, why, sizeof(why));
}

/* What the stacks declare (ci/stacks/STACK.env). */
#define PATCHED_61	(DIO_DOES_CTX_EVENT | DIO_DOES_IRQ_WRITES | \
			 DIO_DOES_CALLER_COMP)
#define BASELINE_61	0
#define BASELINE_MAIN	DIO_DOES_IRQ_WRITES
#define PATCHED_MAIN	(DIO_DOES_CTX_EVENT | DIO_DOES_IRQ_WRITES | \
			 DIO_DOES_CALLER_COMP | DIO_DOES_HANDBACK_CTX)

/* dio_env_does() on DIO_TEST_EXPECT=@v (NULL: unset). */
static int does_of(const char *v)
{
	if (v)
		setenv("DIO_TEST_EXPECT", v, 1);
	else
		unsetenv("DIO_TEST_EXPECT");
	return dio_env_does();
}

int main(int argc, char **argv)
{
	char *wq, *ev, *wq_other, *wq_ovl, *ev_other, *ev_hb, *junk;
	char msg[256];
	struct dio_counts c;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SAMPLES_DIR\n", argv[0]);
		return 2;
	}
	wq = sample(argv[1], "workqueue.hist");
	ev = sample(argv[1], "iomap.hist");
	wq_other = sample(argv[1], "workqueue-other.hist");
	wq_ovl = sample(argv[1], "workqueue-ovl.hist");
	ev_other = sample(argv[1], "iomap-other.hist");
	ev_hb = sample(argv[1], "iomap-handback.hist");
	junk = sample(argv[1], "not-a-hist.txt");
	printf("TAP version 13\n");

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_work(wq, &c);
	snprintf(msg, sizeof(msg), "ret %d, dio_work %llu, want 0, 8", ret,
		 (unsigned long long)c.dio_work);
	check(!ret && c.dio_work == 8, "workqueue_captured", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_work(wq_other, &c);
	snprintf(msg, sizeof(msg), "ret %d, dio_work %llu, want 0, 3", ret,
		 (unsigned long long)c.dio_work);
	check(!ret && c.dio_work == 3, "workqueue_exact_name", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_work(wq, &c);
	snprintf(msg, sizeof(msg), "ret %d, ovl_work %llu, want 0, 0", ret,
		 (unsigned long long)c.ovl_work);
	check(!ret && !c.ovl_work, "workqueue_no_overlay", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_work(wq_ovl, &c);
	snprintf(msg, sizeof(msg),
		 "ret %d, ovl_work %llu, dio_work %llu, want 0, 12, 3", ret,
		 (unsigned long long)c.ovl_work,
		 (unsigned long long)c.dio_work);
	check(!ret && c.ovl_work == 12 && c.dio_work == 3,
	      "workqueue_overlay_both_names", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_event(ev, 131, &c);
	dio_counts_describe(&c, msg, sizeof(msg));
	check(!ret && c.ctx[DIO_CTX_TASK] == 1 && c.ctx[DIO_CTX_IRQ] == 4 &&
	      c.ctx[DIO_CTX_WORKQUEUE] == 8, "iomap_captured_contexts", msg);
	check(c.err_ctx[DIO_CTX_TASK] == 1 && c.error == -EIO &&
	      !c.err_ctx[DIO_CTX_IRQ] && !c.err_ctx[DIO_CTX_WORKQUEUE],
	      "iomap_captured_error_sign_extended", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_event(ev_other, 131, &c);
	dio_counts_describe(&c, msg, sizeof(msg));
	check(!ret && c.ctx[DIO_CTX_TASK] == 0 && c.ctx[DIO_CTX_IRQ] == 4 &&
	      c.ctx[DIO_CTX_WORKQUEUE] == 2, "iomap_other_inodes_ignored", msg);
	check(c.nowait_retries == 3 && !c.error, "iomap_eagain_apart", msg);

	memset(&c, 0, sizeof(c));
	ret = dio_hist_count_event(ev_hb, 131, &c);
	dio_counts_describe(&c, msg, sizeof(msg));
	check(!ret && c.ctx[DIO_CTX_TASK] == 2 &&
	      c.ctx[DIO_CTX_ISSUER] == 9 && c.ctx[DIO_CTX_TAKEN_BACK] == 5 &&
	      !c.ctx[DIO_CTX_WORKQUEUE] && !c.ctx[DIO_CTX_IRQ],
	      "iomap_handback_contexts", msg);
	c.have_event = true;
	c.have_handback = true;
	check(!judge(&c, DIO_EXPECT_TASK_CONTEXT, false, PATCHED_MAIN, 16),
	      "judge_handback_counted_passes", "rejected");
	check(judge(&c, DIO_EXPECT_TASK_CONTEXT, false, PATCHED_61, 16),
	      "judge_undeclared_handback_fails", "accepted");
	check(judge(&c, DIO_EXPECT_SYNC_WORK, false, PATCHED_MAIN, 16),
	      "judge_sync_work_handed_back_fails", "accepted");
	c.have_handback = false;
	check(judge(&c, DIO_EXPECT_TASK_CONTEXT, false, PATCHED_MAIN, 16),
	      "judge_missing_handback_fails", "accepted");
	c.have_handback = true;
	c.ctx[DIO_CTX_WORKQUEUE] = c.dio_work =
		c.ctx[DIO_CTX_ISSUER] + c.ctx[DIO_CTX_TAKEN_BACK];
	c.ctx[DIO_CTX_ISSUER] = c.ctx[DIO_CTX_TAKEN_BACK] = 0;
	check(!judge(&c, DIO_EXPECT_SYNC_WORK, false, PATCHED_MAIN, 16),
	      "judge_sync_work_on_workqueue_passes", "rejected");

	memset(&c, 0, sizeof(c));
	check(dio_hist_count_work(junk, &c) == -EPROTO, "workqueue_not_a_hist",
	      "accepted");
	check(dio_hist_count_event(junk, 131, &c) == -EPROTO,
	      "iomap_not_a_hist", "accepted");

	/* The judge, on counts like the captured ones. */
	memset(&c, 0, sizeof(c));
	c.have_event = true;
	c.ctx[DIO_CTX_IRQ] = 60;
	c.ctx[DIO_CTX_TASK] = 4;
	check(!judge(&c, DIO_EXPECT_WRITE_INLINE, true, PATCHED_61, 64),
	      "judge_inline_passes", "rejected");
	c.ctx[DIO_CTX_IRQ] = 59;
	c.ctx[DIO_CTX_WORKQUEUE] = 1;
	c.dio_work = 1;
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, true, PATCHED_61, 64),
	      "judge_inline_workqueue_fails", "accepted");
	c.dio_work = 0;
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, true, PATCHED_61, 64),
	      "judge_counters_disagree_fails", "accepted");
	memset(&c, 0, sizeof(c));
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, false, PATCHED_61, 8),
	      "judge_patched_without_event_fails", "accepted");
	check(judge(&c, DIO_EXPECT_TASK_CONTEXT, true, BASELINE_61, 8),
	      "judge_plugged_punt_without_workqueue_fails", "accepted");
	c.have_event = true;
	c.ctx[DIO_CTX_IRQ] = 1;
	c.ctx[DIO_CTX_WORKQUEUE] = 7;
	c.dio_work = 7;
	check(judge(&c, DIO_EXPECT_TASK_CONTEXT, false, PATCHED_61, 8),
	      "judge_punt_in_irq_fails", "accepted");

	/* Mainline's baseline: irq_writes without the event. */
	memset(&c, 0, sizeof(c));
	check(!judge(&c, DIO_EXPECT_WRITE_INLINE, true, BASELINE_MAIN, 8),
	      "judge_irq_writes_without_event_passes", "rejected");
	c.dio_work = 3;
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, true, BASELINE_MAIN, 8),
	      "judge_irq_writes_workqueue_fails", "accepted");
	memset(&c, 0, sizeof(c));
	c.have_event = true;
	c.ctx[DIO_CTX_IRQ] = 8;
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, true, BASELINE_MAIN, 8),
	      "judge_undeclared_event_fails", "accepted");
	check(judge(&c, DIO_EXPECT_WRITE_INLINE, true, -1, 8),
	      "judge_unknown_expect_fails", "accepted");

	/* DIO_TEST_EXPECT's words. */
	check(does_of("ctx_event,irq_writes") ==
	      (DIO_DOES_CTX_EVENT | DIO_DOES_IRQ_WRITES), "expect_words", "");
	check(does_of("none") == 0, "expect_none", "");
	check(does_of("caller_comp handback_ctx") ==
	      (DIO_DOES_CALLER_COMP | DIO_DOES_HANDBACK_CTX),
	      "expect_handback_word", "");
	check(does_of("irq_writes ovl_task") ==
	      (DIO_DOES_IRQ_WRITES | DIO_DOES_OVL_TASK), "expect_ovl_task", "");
	check(does_of("irq_writes bogus") == -1, "expect_unknown_word", "");
	check(does_of(NULL) == -1, "expect_unset", "");

	free(wq);
	free(ev);
	free(wq_other);
	free(ev_other);
	free(ev_hb);
	free(junk);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
