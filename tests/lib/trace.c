// SPDX-License-Identifier: GPL-2.0
/*
 * Counting dio completions per context with tracefs histogram triggers.
 * See trace.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define TRACEFS		"/sys/kernel/tracing"
#define WQ_EVENT	TRACEFS "/events/workqueue/workqueue_execute_start"
#define IOMAP_EVENT	TRACEFS "/events/iomap/iomap_dio_complete"
#define QUEUED_EVENT	TRACEFS "/events/iomap/iomap_dio_rw_queued"
#define IOWQ_EVENT	TRACEFS "/events/io_uring/io_uring_queue_async_work"

/* The work function of an iomap dio completion punted to s_dio_done_wq. */
#define DIO_WORK_FN	"iomap_dio_complete_work"
/* overlayfs' write completion work: 6.1.y's, then mainline's backing-file. */
#define OVL_WORK_FN	"ovl_aio_complete_work"
#define BACKING_WORK_FN	"backing_aio_complete_work"

/*
 * No filter on either trigger: a 6.1 filter cannot match a function by
 * name, and keying by inode instead of filtering on it keeps the trigger
 * string constant, so a copy left armed by a test that was killed before
 * its teardown can be removed by the next test without knowing its inode.
 * At most three keys fit a 6.1 histogram (TRACING_MAP_KEYS_MAX).
 */
#define WQ_TRIGGER	"hist:keys=function.sym:vals=hitcount"
#define IOMAP_TRIGGER	"hist:keys=ino,ctx,error:vals=hitcount"
#define QUEUED_TRIGGER	"hist:keys=ino:vals=hitcount"
#define IOWQ_TRIGGER	"hist:keys=opcode:vals=hitcount"

/* Does the iomap_dio_complete format hold @s? */
static bool dio_format_has(const char *s)
{
	char *text;
	bool found;

	if (dio_ctl_read_all(IOMAP_EVENT "/format", &text))
		return false;
	found = strstr(text, s) != NULL;
	free(text);
	return found;
}

bool dio_trace_have_event(void)
{
	/* Mainline's event before the series has no ctx field. */
	return dio_format_has("field:int ctx;");
}

/*
 * Does the ctx field name the issuer and taken_back contexts?  Only asked
 * once the event's histogram was read, so the event exists; its print
 * format names every value of ctx.
 */
static bool dio_trace_have_handback(void)
{
	return dio_format_has("\"taken_back\"");
}

/* Remove @trigger from @event; -ENOENT when it was not armed. */
static int dio_trigger_remove(const char *event, const char *trigger)
{
	char path[128], cmd[128];

	snprintf(path, sizeof(path), "%s/trigger", event);
	snprintf(cmd, sizeof(cmd), "!%s", trigger);
	return dio_ctl_write(path, cmd);
}

static int dio_trigger_add(const char *event, const char *trigger)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/trigger", event);
	return dio_ctl_write(path, trigger);
}

int dio_trace_start(struct dio_trace *t, uint64_t ino)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->ino = ino;

	/* Stale copies from a killed test; failing to find one is fine. */
	dio_trigger_remove(WQ_EVENT, WQ_TRIGGER);
	dio_trigger_remove(IOWQ_EVENT, IOWQ_TRIGGER);
	if (dio_trace_have_event())
		dio_trigger_remove(IOMAP_EVENT, IOMAP_TRIGGER);

	ret = dio_trigger_add(WQ_EVENT, WQ_TRIGGER);
	if (ret)
		return ret;
	t->wq_armed = true;

	ret = dio_trigger_add(IOWQ_EVENT, IOWQ_TRIGGER);
	if (ret) {
		dio_trace_disarm(t);
		return ret;
	}
	t->iowq_armed = true;

	if (dio_trace_have_event()) {
		ret = dio_trigger_add(IOMAP_EVENT, IOMAP_TRIGGER);
		if (ret) {
			dio_trace_disarm(t);
			return ret;
		}
		t->ev_armed = true;
	}
	return 0;
}

void dio_trace_disarm(struct dio_trace *t)
{
	if (t->wq_armed)
		dio_trigger_remove(WQ_EVENT, WQ_TRIGGER);
	if (t->iowq_armed)
		dio_trigger_remove(IOWQ_EVENT, IOWQ_TRIGGER);
	if (t->ev_armed)
		dio_trigger_remove(IOMAP_EVENT, IOMAP_TRIGGER);
	t->wq_armed = false;
	t->iowq_armed = false;
	t->ev_armed = false;
}

/*
 * The value of key @name in a histogram line "{ a: 1, b: 2 } hitcount: 3".
 * Keys follow "{ " or ", ", so " name:" cannot match inside another name.
 */
static bool dio_hist_key(const char *line, const char *name,
			 unsigned long long *val)
{
	const char *end = strchr(line, '}');
	char pat[32];
	const char *p;
	char *q;

	snprintf(pat, sizeof(pat), " %s:", name);
	p = strstr(line, pat);
	if (!p || !end || p > end)
		return false;
	*val = strtoull(p + strlen(pat), &q, 0);
	return q != p + strlen(pat);
}

static bool dio_hist_hits(const char *line, unsigned long long *hits)
{
	const char *p = strstr(line, "} hitcount:");
	char *q;

	if (!p)
		return false;
	p += strlen("} hitcount:");
	*hits = strtoull(p, &q, 10);
	return q != p;
}

/* Is this line the entry of work function @fn (not of a longer name)? */
static bool dio_hist_is_work(const char *line, const char *fn)
{
	const char *p = strstr(line, "] ");
	char next;

	if (!p || strncmp(p + 2, fn, strlen(fn)))
		return false;
	next = p[2 + strlen(fn)];
	return next == ' ' || next == '}' || next == '+';
}

/*
 * Parse histogram text: every "{ ... } hitcount: N" line goes to @fn.
 * Text without the "Totals:" footer is not a histogram: -EPROTO.
 */
static int dio_hist_parse(const char *text,
			  int (*fn)(const char *line, unsigned long long hits,
				    void *arg),
			  void *arg)
{
	char *buf, *line, *save = NULL;
	unsigned long long hits;
	int ret = 0;

	if (!strstr(text, "Totals:"))
		return -EPROTO;
	buf = strdup(text);	/* strtok_r() writes into it */
	if (!buf)
		return -ENOMEM;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '{')
			continue;
		if (!dio_hist_hits(line, &hits)) {
			ret = -EPROTO;
			break;
		}
		ret = fn(line, hits, arg);
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

static int dio_count_work(const char *line, unsigned long long hits,
			  void *arg)
{
	struct dio_counts *c = arg;

	if (dio_hist_is_work(line, DIO_WORK_FN))
		c->dio_work += hits;
	else if (dio_hist_is_work(line, OVL_WORK_FN) ||
		 dio_hist_is_work(line, BACKING_WORK_FN))
		c->ovl_work += hits;
	return 0;
}

struct dio_ev_arg {
	struct dio_counts *c;
	uint64_t ino;
};

static int dio_count_event(const char *line, unsigned long long hits,
			   void *arg)
{
	struct dio_ev_arg *a = arg;
	unsigned long long ino, ctx, err;
	int error;

	if (!dio_hist_key(line, "ino", &ino) ||
	    !dio_hist_key(line, "ctx", &ctx) ||
	    !dio_hist_key(line, "error", &err))
		return -EPROTO;
	if (ino != a->ino)
		return 0;
	if (ctx >= DIO_CTX_NR)
		return -EPROTO;
	/*
	 * An int key prints as an unsigned number: -5 may come out as
	 * 4294967291 or sign-extended to 64 bits.  The low 32 bits are the
	 * value either way.
	 */
	error = (int)(uint32_t)err;
	if (error == -EAGAIN) {
		a->c->nowait_retries += hits;
		return 0;
	}
	a->c->ctx[ctx] += hits;
	if (error) {
		a->c->err_ctx[ctx] += hits;
		a->c->error = error;
	}
	return 0;
}

int dio_hist_count_work(const char *text, struct dio_counts *c)
{
	return dio_hist_parse(text, dio_count_work, c);
}

int dio_hist_count_event(const char *text, uint64_t ino,
			 struct dio_counts *c)
{
	struct dio_ev_arg a = { .c = c, .ino = ino };

	return dio_hist_parse(text, dio_count_event, &a);
}

/* Read @event's histogram and feed it to @count. */
static int dio_hist_read(const char *event,
			 int (*count)(const char *text, void *arg), void *arg)
{
	char path[128], *text;
	int ret;

	snprintf(path, sizeof(path), "%s/hist", event);
	ret = dio_ctl_read_all(path, &text);
	if (ret)
		return ret;
	ret = count(text, arg);
	free(text);
	return ret;
}

static int dio_read_work(const char *text, void *arg)
{
	return dio_hist_count_work(text, arg);
}

static int dio_count_iowq(const char *line, unsigned long long hits,
			  void *arg)
{
	struct dio_counts *c = arg;

	(void)line;
	c->iowq_punts += hits;
	return 0;
}

static int dio_read_iowq(const char *text, void *arg)
{
	return dio_hist_parse(text, dio_count_iowq, arg);
}

static int dio_read_event(const char *text, void *arg)
{
	struct dio_ev_arg *a = arg;

	return dio_hist_count_event(text, a->ino, a->c);
}

int dio_trace_read(const struct dio_trace *t, struct dio_counts *c)
{
	struct dio_ev_arg a = { .c = c, .ino = t->ino };
	int ret = 0, r;

	memset(c, 0, sizeof(*c));
	if (t->wq_armed)
		ret = dio_hist_read(WQ_EVENT, dio_read_work, c);
	else
		ret = -EINVAL;
	if (t->iowq_armed) {
		r = dio_hist_read(IOWQ_EVENT, dio_read_iowq, c);
		if (!ret)
			ret = r;
	}
	if (t->ev_armed) {
		r = dio_hist_read(IOMAP_EVENT, dio_read_event, &a);
		if (!ret)
			ret = r;
		c->have_event = !r;
		c->have_handback = !r && dio_trace_have_handback();
	}
	return ret;
}

int dio_trace_stop(struct dio_trace *t, struct dio_counts *c)
{
	int ret = dio_trace_read(t, c);

	dio_trace_disarm(t);
	return ret;
}

int dio_queued_start(void)
{
	if (access(QUEUED_EVENT, F_OK))
		return -ENOENT;
	/* A stale copy from a killed test; failing to find one is fine. */
	dio_trigger_remove(QUEUED_EVENT, QUEUED_TRIGGER);
	return dio_trigger_add(QUEUED_EVENT, QUEUED_TRIGGER);
}

struct dio_queued_arg {
	uint64_t ino;
	uint64_t n;
};

static int dio_count_queued(const char *line, unsigned long long hits,
			    void *arg)
{
	struct dio_queued_arg *a = arg;
	unsigned long long ino;

	if (!dio_hist_key(line, "ino", &ino))
		return -EPROTO;
	if (ino == a->ino)
		a->n += hits;
	return 0;
}

static int dio_read_queued(const char *text, void *arg)
{
	return dio_hist_parse(text, dio_count_queued, arg);
}

int dio_queued_count(uint64_t ino, uint64_t *n)
{
	struct dio_queued_arg a = { .ino = ino };
	int ret;

	ret = dio_hist_read(QUEUED_EVENT, dio_read_queued, &a);
	*n = a.n;
	return ret;
}

void dio_queued_stop(void)
{
	dio_trigger_remove(QUEUED_EVENT, QUEUED_TRIGGER);
}

void dio_counts_describe(const struct dio_counts *c, char *buf, size_t len)
{
	if (!c->have_event) {
		snprintf(buf, len, "dio workqueue items %llu, io-wq punts %llu (no iomap_dio_complete event)",
			 (unsigned long long)c->dio_work,
			 (unsigned long long)c->iowq_punts);
		return;
	}
	snprintf(buf, len, "dio workqueue items %llu, io-wq punts %llu; this file: task %llu, workqueue %llu, irq %llu, issuer %llu, taken_back %llu; with an error: %llu/%llu/%llu/%llu/%llu (error %d); NOWAIT retries %llu",
		 (unsigned long long)c->dio_work,
		 (unsigned long long)c->iowq_punts,
		 (unsigned long long)c->ctx[DIO_CTX_TASK],
		 (unsigned long long)c->ctx[DIO_CTX_WORKQUEUE],
		 (unsigned long long)c->ctx[DIO_CTX_IRQ],
		 (unsigned long long)c->ctx[DIO_CTX_ISSUER],
		 (unsigned long long)c->ctx[DIO_CTX_TAKEN_BACK],
		 (unsigned long long)c->err_ctx[DIO_CTX_TASK],
		 (unsigned long long)c->err_ctx[DIO_CTX_WORKQUEUE],
		 (unsigned long long)c->err_ctx[DIO_CTX_IRQ],
		 (unsigned long long)c->err_ctx[DIO_CTX_ISSUER],
		 (unsigned long long)c->err_ctx[DIO_CTX_TAKEN_BACK], c->error,
		 (unsigned long long)c->nowait_retries);
}

/* snprintf into @why and return 1: the check failed. */
static int dio_fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int dio_fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return 1;
}

int dio_counts_declared(const struct dio_counts *c, int does, char *why,
			size_t len)
{
	bool event = does >= 0 && (does & DIO_DOES_CTX_EVENT);
	bool handback = does >= 0 && (does & DIO_DOES_HANDBACK_CTX);

	snprintf(why, len, "ok");
	if (does < 0)
		return dio_fail(why, len, "DIO_TEST_EXPECT is unset or names something unknown");
	/* Either way round, the stack's declaration is wrong. */
	if (event && !c->have_event)
		return dio_fail(why, len, "this kernel should have the iomap_dio_complete event with its ctx field (ctx_event), but it has not (or its histogram could not be read)");
	if (!event && c->have_event)
		return dio_fail(why, len, "this kernel has the iomap_dio_complete ctx field, but its stack does not declare ctx_event");
	if (handback && !c->have_handback)
		return dio_fail(why, len, "this kernel's iomap_dio_complete ctx should name issuer and taken_back completions (handback_ctx), but it does not");
	if (!handback && c->have_handback)
		return dio_fail(why, len, "this kernel's iomap_dio_complete ctx names issuer and taken_back completions, but its stack does not declare handback_ctx");
	return 0;
}

int dio_counts_check(const struct dio_counts *c, enum dio_expect e,
		     bool plugged, int does, uint32_t nr_io,
		     char *why, size_t len)
{
	const uint64_t *ctx = c->ctx;
	uint64_t total = ctx[DIO_CTX_TASK] + ctx[DIO_CTX_WORKQUEUE] +
			 ctx[DIO_CTX_IRQ] + ctx[DIO_CTX_ISSUER] +
			 ctx[DIO_CTX_TAKEN_BACK];
	bool event = does >= 0 && (does & DIO_DOES_CTX_EVENT);
	bool irq_writes = does >= 0 && (does & DIO_DOES_IRQ_WRITES);

	if (dio_counts_declared(c, does, why, len))
		return 1;

	/*
	 * Sanity of the counting itself, so that a parser that finds
	 * nothing cannot make "no workqueue completion" pass: no more
	 * workqueue items than I/Os, each dio of the file completes exactly
	 * once, and the workqueue items are exactly this file's workqueue
	 * completions (no other direct I/O runs while a test counts).
	 */
	if (c->dio_work > nr_io)
		return dio_fail(why, len, "%llu dio workqueue items for %u I/Os: something else is doing direct I/O",
				(unsigned long long)c->dio_work, nr_io);
	if (c->have_event) {
		if (total != nr_io)
			return dio_fail(why, len, "the event counted %llu completions of the file for %u I/Os",
					(unsigned long long)total, nr_io);
		if (c->dio_work != ctx[DIO_CTX_WORKQUEUE])
			return dio_fail(why, len, "%llu dio workqueue items but %llu workqueue completions of the file",
					(unsigned long long)c->dio_work,
					(unsigned long long)ctx[DIO_CTX_WORKQUEUE]);
	}

	/*
	 * A write io_uring sent to io-wq went out unplugged, whatever the
	 * batch: the filesystem refused it under IOCB_NOWAIT before iomap saw
	 * it (6.1's XFS does whenever the mtime needs updating).
	 */
	if (c->iowq_punts)
		plugged = false;

	switch (e) {
	case DIO_EXPECT_SYNC_WORK:
		if (ctx[DIO_CTX_ISSUER] + ctx[DIO_CTX_TAKEN_BACK])
			return dio_fail(why, len, "%llu completions were handed to the issuer: a write that syncs at completion must not be",
					(unsigned long long)(ctx[DIO_CTX_ISSUER] +
							     ctx[DIO_CTX_TAKEN_BACK]));
		/* fall through */
	case DIO_EXPECT_TASK_CONTEXT:
		if (ctx[DIO_CTX_IRQ])
			return dio_fail(why, len, "%llu completions ran in irq context: this write needs task context",
					(unsigned long long)ctx[DIO_CTX_IRQ]);
		if (plugged && !c->dio_work)
			return dio_fail(why, len, "expected the dio workqueue to complete plugged writes, it ran none");
		return 0;
	case DIO_EXPECT_ISSUER:
		if (c->dio_work)
			return dio_fail(why, len, "expected the issuing task to complete the write, %llu completions went to the dio workqueue",
					(unsigned long long)c->dio_work);
		if (event && ctx[DIO_CTX_TASK] != nr_io)
			return dio_fail(why, len, "expected all %u completions in the issuing task, %llu ran there",
					nr_io,
					(unsigned long long)ctx[DIO_CTX_TASK]);
		return 0;
	case DIO_EXPECT_WRITE_INLINE:
		if (!irq_writes) {
			/* Such a kernel sends every async write to the workqueue. */
			if (plugged && !c->dio_work)
				return dio_fail(why, len, "without irq_writes: expected workqueue completions for plugged async writes, saw none");
			return 0;
		}
		if (c->dio_work)
			return dio_fail(why, len, "irq_writes: expected no workqueue completion for a write that needs none, saw %llu",
					(unsigned long long)c->dio_work);
		if (event && plugged && !ctx[DIO_CTX_IRQ])
			return dio_fail(why, len, "irq_writes: expected irq completions for plugged overwrites, saw none");
		return 0;
	case DIO_EXPECT_READ_INLINE:
		if (c->dio_work)
			return dio_fail(why, len, "expected reads to complete inline, %llu went to the dio workqueue",
					(unsigned long long)c->dio_work);
		if (event && plugged && !ctx[DIO_CTX_IRQ])
			return dio_fail(why, len, "expected irq completions for plugged reads, saw none");
		return 0;
	}
	return dio_fail(why, len, "unknown expectation %d", e);
}
