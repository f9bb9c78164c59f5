// SPDX-License-Identifier: GPL-2.0
/*
 * dio_caller_deadlock: a task that waits in inode_dio_wait() never depends
 * on a completion that only a blocked task would run.
 *
 * With IOCB_DIO_CALLER_COMP, io_uring runs the completion of a direct write
 * into unwritten extents in the issuing task, from its task_work.  Upstream
 * had to disable that (838b35bb6a89): a task with such writes in flight that
 * then called ftruncate() or fallocate() slept in inode_dio_wait() for
 * completions only it would run.  Each case here builds such a situation:
 * writes into fallocated (unwritten) space are submitted and deliberately
 * not reaped, then something that waits in inode_dio_wait() runs, in the
 * same task or in another one that the issuer is blocked behind.
 *
 * Rings with IORING_SETUP_DEFER_TASKRUN make the bad case deterministic:
 * their task_work runs only when the task asks for completions, so the
 * completions are certainly pending when the wait starts.  One case starts
 * the wait as soon as every write is in flight instead, so that the writes
 * are handed back while the task already waits and must wake it.  A plain
 * ring and an SQPOLL ring are covered too, and a linked chain of writes,
 * whose next write is issued by the task_work that completes the one
 * before.  (No io_uring write opcode is multishot, so there is no multishot
 * case.)  So are issuers that go away without reaping: the ring closed, the
 * task exited, either once its writes finished or while they are still in
 * flight, so that io_uring completes them from a kernel thread.  And one
 * case repeats a wait by another task many times, reaping at once on every
 * other round, so that the issuer claims its completions in a race with
 * the waiter that takes them back: each must run once, whoever wins, and
 * report its full length.
 *
 * Every scenario runs in a child process, and the test itself is the
 * watchdog: a child that has not finished after DEADLOCK_TIMEOUT seconds
 * fails the test and is left behind (a task stuck in inode_dio_wait() cannot
 * be killed), instead of hanging the whole run.  On the naive kernel
 * (`make check-naive`) these tests must fail; on baseline and patched they
 * must pass.  After the waits, every write must have completed with its full
 * length and the surviving data must read back intact.
 *
 * With handback_ctx (enum dio_does), the iomap_dio_complete event also shows
 * which path ran: each write exactly once, never on the workqueue or in irq
 * context.  Whether a submitter completes its own write (its bio done
 * before the syscall returned) is up to the disk's timing, and so is
 * whether io-wq issues a write refused under IOCB_NOWAIT before the wait
 * starts.  The guest runs these tests on a null_blk disk too, whose every
 * request completes a fixed time after it was queued
 * (DIO_TEST_COMPLETION_DELAY_NS), and there the writes are all in flight
 * before anything waits.  There, where a DEFER_TASKRUN issuer cannot run
 * its task_work before the wait is over (the same task waits, or it is
 * blocked, or the wait goes through another descriptor), every write must
 * have been handed to the issuer and then taken back by the waiting task
 * ("taken_back"); where nothing waits and the ring or its task goes away,
 * io_uring's exit must have run every one ("issuer"); and the naive kernel
 * hangs in every case that its design deadlocks, every run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/trace.h"
#include "lib/expect.h"

#define FILE_BLOCKS	256u		/* 1 MiB fallocated, unwritten */
#define NWRITES		16u		/* every other block of the first 128 KiB */
#define TRUNC_SIZE	(512u * 1024)	/* keeps every written block */
#define PUNCH_OFF	(768u * 1024)	/* a range no write touches */
#define PUNCH_LEN	(128u * 1024)
#define PENDING_US	300000		/* time for the writes to finish */
#define QUEUED_TIMEOUT_MS 10000		/* for the writes to be submitted */
#define CONVERT_TIMEOUT_MS 10000	/* for nobody's completions to run */
#define DEADLOCK_TIMEOUT 45		/* s; the hung task detector fires at 60 */
#define GONE_TRIES	3		/* of TASK_GONE, on a loaded host: see returns */
#define RACE_ROUNDS	24u		/* of NWRITES writes, for RACE */
#define RACE_TIMEOUT	90		/* s, for all of them; see returns */
#define SEED		0x63616c6c65722d31ULL

enum ring_kind { RING_PLAIN, RING_DEFER, RING_SQPOLL };
enum wait_op { OP_FTRUNCATE, OP_PUNCH, OP_FSYNC, OP_NONE };
enum scenario {
	SAME_TASK,	/* the issuer itself waits in inode_dio_wait() */
	SAME_EARLY,	/* the same, as soon as every write is in flight (on
			 * a late-completing disk; elsewhere at once), so
			 * that they are handed back while it waits */
	SAME_LINKED,	/* the same, the writes queued as one linked chain */
	CROSS_TASK,	/* another task waits with i_rwsem held; the issuer
			 * then blocks on that i_rwsem */
	CROSS_BLOCKED,	/* the other order: the issuer blocks first (on a
			 * pipe the other task writes when its wait is over),
			 * then the other task waits */
	RING_CLOSED,	/* the ring is closed with the completions pending */
	TASK_EXITED,	/* the issuer exits with the completions pending */
	TASK_GONE,	/* the issuer exits with the writes in flight: they
			 * complete after it is gone (on a late-completing
			 * disk), and io_uring runs them from its fallback
			 * work, in a kernel thread */
	FILE_CLOSED,	/* the file is closed before reaping */
	RACE,		/* RACE_ROUNDS times: another task waits; we reap
			 * after it (even rounds) or at once (odd ones) */
};

/* Child exit codes, so the parent can say what went wrong. */
enum {
	CHILD_OK, CHILD_SETUP, CHILD_SUBMIT, CHILD_WAITOP, CHILD_CQE,
	CHILD_DATA, CHILD_PEER, CHILD_QUEUED, CHILD_EARLY,
};

static const char * const child_errs[] = {
	"ok", "setup failed", "submit failed", "the waiting call failed",
	"a write completed with a wrong result", "data did not read back",
	"the other task failed",
	"the writes were not all in flight after QUEUED_TIMEOUT_MS",
	"a write completed before its issuer had exited",
};

static unsigned int ring_flags(enum ring_kind kind)
{
	switch (kind) {
	case RING_DEFER:
		return IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	case RING_SQPOLL:
		return IORING_SETUP_SQPOLL;
	default:
		return 0;
	}
}

/*
 * OP_NONE: nothing waits for the writes, yet their completions must run:
 * poll until every written block is converted from unwritten, for at most
 * CONVERT_TIMEOUT_MS.  0 when they are, -1 otherwise.
 */
static int converted(int fd)
{
	unsigned int i, left = NWRITES;
	int t;

	for (t = 0; t < CONVERT_TIMEOUT_MS && left; t += 10) {
		for (i = 0, left = 0; i < NWRITES; i++)
			if (dio_range_unwritten(fd, (off_t)2 * i * DIO_BS,
						DIO_BS))
				left++;
		if (left)
			usleep(10000);
	}
	return left ? -1 : 0;
}

static int wait_op(int fd, enum wait_op op)
{
	switch (op) {
	case OP_FTRUNCATE:
		return ftruncate(fd, TRUNC_SIZE);
	case OP_PUNCH:
		return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 PUNCH_OFF, PUNCH_LEN);
	case OP_FSYNC:
		return fsync(fd);
	default:
		return converted(fd);
	}
}

/*
 * Return once every write into @fd is in flight: its submitter returned
 * with the bio not yet complete (iomap_dio_rw_queued), as dio_queued_start()
 * began counting before the submission (@armed is its result).  The
 * counter stays armed: the fixture's teardown removes it.  With @armed
 * -ENOENT (no such event: 6.1 without the series, or not asked for), at
 * once.  Returns a CHILD_* code.
 */
static int await_queued(int fd, int armed)
{
	uint64_t n = 0;
	struct stat st;
	int i, ret = 0;

	if (armed == -ENOENT)
		return CHILD_OK;
	if (armed || fstat(fd, &st))
		return CHILD_SETUP;
	for (i = 0; i < QUEUED_TIMEOUT_MS; i++) {
		ret = dio_queued_count(st.st_ino, &n);
		if (ret || n >= NWRITES)
			break;
		usleep(1000);
	}
	if (ret)
		return CHILD_SETUP;
	return n >= NWRITES ? CHILD_OK : CHILD_QUEUED;
}

/*
 * Queue NWRITES 4 KiB O_DIRECT writes of pattern SEED into unwritten space;
 * LINKED makes them one IOSQE_IO_LINK chain, so that each next write is
 * issued from the task_work that completes the one before it.  On a disk
 * that completes every request late, return only once every write is in
 * flight (not for a chain, which has one at a time): then none can still
 * be issued, from io-wq after an IOCB_NOWAIT refusal, once a wait has
 * started.  Returns a CHILD_* code.
 */
static int submit_writes(struct io_uring *ring, int fd, char *bufs,
			 bool linked)
{
	int armed = -ENOENT;
	unsigned int i;

	for (i = 0; i < NWRITES; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe)
			return CHILD_SUBMIT;
		dio_pattern_fill(bufs + i * DIO_BS, DIO_BS, SEED, 2 * i);
		io_uring_prep_write(sqe, fd, bufs + i * DIO_BS, DIO_BS,
				    (off_t)2 * i * DIO_BS);
		if (linked && i + 1 < NWRITES)
			sqe->flags |= IOSQE_IO_LINK;
	}
	if (dio_env_completion_delay_ns() && !linked)
		armed = dio_queued_start();
	if (io_uring_submit(ring) != (int)NWRITES)
		return CHILD_SUBMIT;
	return await_queued(fd, armed);
}

static int reap_writes(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	unsigned int i;
	int bad = 0;

	for (i = 0; i < NWRITES; i++) {
		if (io_uring_wait_cqe(ring, &cqe))
			return -EIO;
		if (cqe->res != (int)DIO_BS)
			bad = -EIO;
		io_uring_cqe_seen(ring, cqe);
	}
	return bad;
}

/*
 * The written blocks hold their pattern: the completions really happened.
 * Buffered reads, so that the only direct I/O the fixture counts is the
 * writes.
 */
static int check_data(const char *path)
{
	struct dio_mismatch mm;
	char *buf = dio_alloc(DIO_BS);
	unsigned int i;
	int fd, ret = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		return -EIO;
	}
	for (i = 0; i < NWRITES && !ret; i++) {
		if (pread(fd, buf, DIO_BS, (off_t)2 * i * DIO_BS) != DIO_BS)
			ret = -EIO;
		else if (dio_pattern_check(buf, DIO_BS, 1, dio_expect_seed(SEED),
					   2 * i, &mm))
			ret = -EIO;
	}
	close(fd);
	free(buf);
	return ret;
}

/* The other task of a cross-task case exited, and with CHILD_OK. */
static bool peer_ok(pid_t peer)
{
	int st;

	return waitpid(peer, &st, 0) == peer && WIFEXITED(st) &&
	       WEXITSTATUS(st) == CHILD_OK;
}

/* A peer that waits in wait_op() for our writes; its pid, or -1. */
static pid_t fork_waiter(int fd, enum wait_op op)
{
	pid_t peer = fork();

	if (peer == 0)
		_exit(wait_op(fd, op) ? CHILD_WAITOP : CHILD_OK);
	return peer;
}

/*
 * The issuer is a peer that submits the writes and exits without reaping or
 * closing its ring: its pending task_work goes with the task, yet every
 * completion must still happen.  It exits once the writes have finished
 * (@linger), or as soon as they are all in flight.  Returns a CHILD_* code.
 */
static int exited_issuer(int fd, char *bufs, enum ring_kind kind, bool linger)
{
	struct io_uring ring;
	pid_t peer = fork();
	int st;

	if (peer < 0)
		return CHILD_SETUP;
	if (peer == 0) {
		if (io_uring_queue_init(64, &ring, ring_flags(kind)))
			_exit(CHILD_SETUP);
		st = submit_writes(&ring, fd, bufs, false);
		if (st != CHILD_OK)
			_exit(st);
		if (linger)
			usleep(PENDING_US);
		_exit(CHILD_OK);
	}
	return peer_ok(peer) ? CHILD_OK : CHILD_PEER;
}

/*
 * TASK_GONE: on a disk that completes every request late, none of the
 * writes may have completed by the time their issuer is reaped, or one
 * could have run in the task before it was gone instead of in io_uring's
 * fallback work.  The event (@t armed with it) tells; without it there is
 * no hand-back to reach that work anyway.  Returns a CHILD_* code.
 */
static int none_completed(const struct dio_trace *t)
{
	struct dio_counts c;
	uint64_t n = 0;
	unsigned int i;

	if (!dio_env_completion_delay_ns() || !t->ev_armed)
		return CHILD_OK;
	if (dio_trace_read(t, &c))
		return CHILD_SETUP;
	for (i = 0; i < DIO_CTX_NR; i++)
		n += c.ctx[i];
	return n ? CHILD_EARLY : CHILD_OK;
}

/*
 * RACE: RACE_ROUNDS times, make the written blocks unwritten again, queue
 * the writes and start a peer that waits in inode_dio_wait() for them.  On
 * even rounds we reap only once the peer is done: we sleep in waitpid(),
 * which runs no task_work of a DEFER_TASKRUN ring, so the peer has to take
 * back every write handed to us.  On odd rounds we reap at once, and our
 * task_work claims each completion in a race with the peer's take-back.
 * Returns a CHILD_* code.
 */
static int race_rounds(int fd, char *bufs, enum ring_kind kind,
		       enum wait_op op)
{
	const off_t len = (off_t)2 * NWRITES * DIO_BS;
	struct io_uring ring;
	unsigned int r;
	pid_t peer;
	int st;

	if (io_uring_queue_init(64, &ring, ring_flags(kind)))
		return CHILD_SETUP;
	for (r = 0; r < RACE_ROUNDS; r++) {
		/* Unwritten again, so that every write needs a conversion. */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      0, len) || fallocate(fd, 0, 0, len))
			return CHILD_SETUP;
		st = submit_writes(&ring, fd, bufs, false);
		if (st != CHILD_OK)
			return st;
		peer = fork_waiter(fd, op);
		if (peer < 0)
			return CHILD_SETUP;
		if ((r & 1) && reap_writes(&ring))
			return CHILD_CQE;
		if (!peer_ok(peer))
			return CHILD_PEER;
		if (!(r & 1) && reap_writes(&ring))
			return CHILD_CQE;
	}
	io_uring_queue_exit(&ring);
	return CHILD_OK;
}

/*
 * The whole scenario, in a child process.  Returns a CHILD_* code.  Where
 * another task is involved it is a grandchild, reaped here.
 */
static int scenario(const char *path, const struct dio_trace *trace,
		    enum scenario sc, enum ring_kind kind, enum wait_op op)
{
	struct io_uring ring;
	pid_t peer = -1;
	int fd, st, pipefd[2];
	char *bufs, byte;

	/* Created by the fixture, which counts the completions of its inode. */
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0)
		return CHILD_SETUP;
	bufs = dio_alloc(NWRITES * DIO_BS);
	if (!bufs || fallocate(fd, 0, 0, (off_t)FILE_BLOCKS * DIO_BS))
		return CHILD_SETUP;
	if (sc == RACE) {
		st = race_rounds(fd, bufs, kind, op);
	} else if (sc == TASK_EXITED) {
		st = exited_issuer(fd, bufs, kind, true);
	} else if (sc == TASK_GONE) {
		st = exited_issuer(fd, bufs, kind, false);
		if (st == CHILD_OK)
			st = none_completed(trace);
	} else {
		if (io_uring_queue_init(64, &ring, ring_flags(kind)))
			return CHILD_SETUP;
		st = submit_writes(&ring, fd, bufs, sc == SAME_LINKED);
		/* Let the writes finish, so their completions are pending. */
		if (st == CHILD_OK && sc != SAME_EARLY)
			usleep(PENDING_US);
	}
	if (st != CHILD_OK)
		return st;

	switch (sc) {
	case SAME_TASK:
	case SAME_EARLY:
	case SAME_LINKED:
		if (wait_op(fd, op))
			return CHILD_WAITOP;
		break;
	case CROSS_TASK:
		/*
		 * The peer takes i_rwsem and waits in inode_dio_wait() for our
		 * completions; then we block on the same i_rwsem.  If the
		 * peer's wait depended on our task_work, neither would return.
		 */
		peer = fork_waiter(fd, op);
		if (peer < 0)
			return CHILD_SETUP;
		usleep(PENDING_US);
		if (wait_op(fd, op))
			return CHILD_WAITOP;
		if (!peer_ok(peer))
			return CHILD_PEER;
		break;
	case CROSS_BLOCKED:
		/*
		 * We sleep in read() first, a sleep that runs no task_work of
		 * a DEFER_TASKRUN ring; then the peer waits in
		 * inode_dio_wait() and wakes us only when that returns.
		 */
		if (pipe(pipefd))
			return CHILD_SETUP;
		peer = fork();
		if (peer < 0)
			return CHILD_SETUP;
		if (peer == 0) {
			usleep(PENDING_US);
			st = wait_op(fd, op) ? CHILD_WAITOP : CHILD_OK;
			_exit(write(pipefd[1], "x", 1) == 1 ? st : CHILD_SETUP);
		}
		if (read(pipefd[0], &byte, 1) != 1)
			return CHILD_SETUP;
		if (!peer_ok(peer))
			return CHILD_PEER;
		break;
	case RING_CLOSED:
		/* Pending completions must not be lost with the ring. */
		io_uring_queue_exit(&ring);
		/* fall through */
	case TASK_EXITED:
	case TASK_GONE:
		if (wait_op(fd, op))
			return CHILD_WAITOP;
		/* fall through */
	case RACE:	/* race_rounds() reaped every round */
		close(fd);
		return check_data(path) ? CHILD_DATA : CHILD_OK;
	case FILE_CLOSED:
		/*
		 * The requests hold the file: closing it must change nothing,
		 * and a wait through another descriptor must still return.
		 */
		close(fd);
		fd = open(path, O_RDWR);
		if (fd < 0)
			return CHILD_SETUP;
		if (wait_op(fd, op))
			return CHILD_WAITOP;
		break;
	}

	if (reap_writes(&ring))
		return CHILD_CQE;
	io_uring_queue_exit(&ring);
	close(fd);
	return check_data(path) ? CHILD_DATA : CHILD_OK;
}

FIXTURE(dio_caller_deadlock) {
	char path[PATH_MAX];
	int fd;
	struct dio_trace trace;
	bool stuck;
};

FIXTURE_VARIANT(dio_caller_deadlock) {
	enum scenario sc;
	enum ring_kind ring;
	enum wait_op op;
	/* The wait certainly finds the completions handed back, unrun. */
	bool taken_back;
};

#define VARIANT(_name, _sc, _ring, _op, _taken_back)		\
	FIXTURE_VARIANT_ADD(dio_caller_deadlock, _name) {	\
		.sc = _sc, .ring = _ring, .op = _op,		\
		.taken_back = _taken_back,			\
	}

/*
 * Not "taken_back": a plain ring's task_work runs when the issuer sleeps
 * in usleep(), an SQPOLL ring's in the SQ thread, a closed ring's and an
 * exited task's in io_uring's exit work, which races the wait (the _nowait
 * cases call nothing that waits, so only that work can run them), and
 * those of a task gone before they came in io_uring's fallback work; a
 * linked chain has at most one write in flight, which its submitter may
 * complete itself.  fsync() does not wait for direct I/O on ext4 or XFS
 * (it flushes the page cache and the log), so its writes stay with the
 * issuer: that case checks the data and that nothing waits for them.
 * The race case races on purpose on every other round: check_paths()
 * counts the take-backs of the rounds that do not.
 */
VARIANT(same_plain_ftruncate, SAME_TASK, RING_PLAIN, OP_FTRUNCATE, false);
VARIANT(same_defer_ftruncate, SAME_TASK, RING_DEFER, OP_FTRUNCATE, true);
VARIANT(same_defer_punch, SAME_TASK, RING_DEFER, OP_PUNCH, true);
VARIANT(same_defer_early_ftruncate, SAME_EARLY, RING_DEFER, OP_FTRUNCATE,
	true);
VARIANT(same_defer_fsync, SAME_TASK, RING_DEFER, OP_FSYNC, false);
VARIANT(same_sqpoll_ftruncate, SAME_TASK, RING_SQPOLL, OP_FTRUNCATE, false);
VARIANT(same_defer_linked_ftruncate, SAME_LINKED, RING_DEFER, OP_FTRUNCATE,
	false);
VARIANT(cross_defer_ftruncate, CROSS_TASK, RING_DEFER, OP_FTRUNCATE, true);
VARIANT(cross_defer_punch, CROSS_TASK, RING_DEFER, OP_PUNCH, true);
VARIANT(cross_sqpoll_ftruncate, CROSS_TASK, RING_SQPOLL, OP_FTRUNCATE, false);
VARIANT(cross_blocked_defer_ftruncate, CROSS_BLOCKED, RING_DEFER,
	OP_FTRUNCATE, true);
VARIANT(ring_closed_defer, RING_CLOSED, RING_DEFER, OP_FTRUNCATE, false);
VARIANT(ring_closed_defer_nowait, RING_CLOSED, RING_DEFER, OP_NONE, false);
VARIANT(task_exited_defer, TASK_EXITED, RING_DEFER, OP_FTRUNCATE, false);
VARIANT(task_exited_defer_nowait, TASK_EXITED, RING_DEFER, OP_NONE, false);
VARIANT(task_exited_sqpoll, TASK_EXITED, RING_SQPOLL, OP_PUNCH, false);
VARIANT(task_gone_plain_nowait, TASK_GONE, RING_PLAIN, OP_NONE, false);
VARIANT(file_closed_defer, FILE_CLOSED, RING_DEFER, OP_FTRUNCATE, true);
VARIANT(race_defer_punch, RACE, RING_DEFER, OP_PUNCH, false);

/* A new file for the scenario, with the counters armed on its inode. */
static void new_file(struct __test_metadata *_metadata,
		     FIXTURE_DATA(dio_caller_deadlock) *self)
{
	const char *dir = dio_env_dir();

	ASSERT_NE(NULL, dir) TH_LOG("DIO_TEST_DIR is not set");
	ASSERT_EQ(0, dio_file_path(self->path, sizeof(self->path), dir,
				   "caller-deadlock"));
	self->fd = open(self->path, O_CREAT | O_EXCL | O_RDWR, 0644);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->path,
				      strerror(errno));
	dio_count_start(_metadata, &self->trace, self->fd);
}

/*
 * Disarm the counters and remove the file.  Writes still in flight keep
 * its inode, so a new file cannot get its number and its counts.
 */
static void drop_file(FIXTURE_DATA(dio_caller_deadlock) *self)
{
	dio_trace_disarm(&self->trace);
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	/* A stuck child may still use the file: leave it for the post-mortem. */
	if (!self->stuck)
		unlink(self->path);
}

FIXTURE_SETUP(dio_caller_deadlock)
{
	self->fd = -1;
	self->stuck = false;
	memset(&self->trace, 0, sizeof(self->trace));
	new_file(_metadata, self);
}

FIXTURE_TEARDOWN(dio_caller_deadlock)
{
	/*
	 * The scenario leaves the iomap_dio_rw_queued counter armed: removing
	 * a trigger can wait for an RCU grace period, which would delay the
	 * wait that must start while the writes are in flight.
	 */
	dio_queued_stop();
	drop_file(self);
}

/*
 * Which path ran, where the event can tell (handback_ctx).  On any disk each
 * write completes exactly once, never on the workqueue or in irq context.
 * Which of the submitter, the issuer and the wait runs it is exact only on
 * a disk that completes every request late (the writes all in flight before
 * anything waits): elsewhere a submitter may complete its own write, and a
 * write retried from io-wq may be issued after the wait.
 */
static void check_paths(struct __test_metadata *_metadata,
			const FIXTURE_VARIANT(dio_caller_deadlock) *variant,
			const struct dio_counts *c)
{
	const uint64_t *ctx = c->ctx;
	uint64_t writes = NWRITES;

	if (!(dio_env_does() & DIO_DOES_HANDBACK_CTX))
		return;
	if (variant->sc == RACE)
		writes *= RACE_ROUNDS;
	EXPECT_EQ(0, ctx[DIO_CTX_WORKQUEUE]);
	EXPECT_EQ(0, ctx[DIO_CTX_IRQ]);
	EXPECT_EQ(writes, ctx[DIO_CTX_TASK] + ctx[DIO_CTX_ISSUER] +
			  ctx[DIO_CTX_TAKEN_BACK])
		TH_LOG("each write must complete exactly once");
	if (!dio_env_completion_delay_ns())
		return;
	if (variant->sc == RACE) {
		/* Only the odd rounds race; the even ones take back all. */
		EXPECT_LE(NWRITES * (RACE_ROUNDS + 1) / 2,
			  ctx[DIO_CTX_TAKEN_BACK])
			TH_LOG("the waits of the even rounds must take back every write of theirs");
		TH_LOG("race: %llu writes claimed by the issuer, %llu taken back",
		       (unsigned long long)ctx[DIO_CTX_ISSUER],
		       (unsigned long long)ctx[DIO_CTX_TAKEN_BACK]);
	} else if (variant->taken_back) {
		EXPECT_EQ(NWRITES, ctx[DIO_CTX_TAKEN_BACK])
			TH_LOG("every write was handed back before or during the wait, which must take back all of them: the take-back path did not run for all");
	} else if (variant->op == OP_NONE) {
		EXPECT_EQ(NWRITES, ctx[DIO_CTX_ISSUER])
			TH_LOG("nothing waited: io_uring's exit must have run every write handed back");
	}
}

/*
 * Our own watchdog fires before the harness's: after DEADLOCK_TIMEOUT, or
 * RACE_TIMEOUT for the race case, whose rounds together take longer than
 * one wait.
 */
TEST_F_TIMEOUT(dio_caller_deadlock, returns, RACE_TIMEOUT + 60)
{
	int limit = variant->sc == RACE ? RACE_TIMEOUT : DEADLOCK_TIMEOUT;
	struct dio_counts c;
	time_t deadline;
	int st, try = 1;
	pid_t pid;

again:
	deadline = time(NULL) + limit;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(scenario(self->path, &self->trace, variant->sc,
			       variant->ring, variant->op));

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (time(NULL) > deadline) {
			self->stuck = true;
			kill(pid, SIGKILL);
			ASSERT_TRUE(false)
				TH_LOG("no return after %d s: a wait depends on a completion nobody runs",
				       limit);
		}
		usleep(100000);
	}
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("child died, status 0x%x", st);
	/*
	 * The disk completes no write sooner than its delay after submission,
	 * so an early one means that the issuer's exit and our reaping it
	 * took longer than that: either the exit waited for the writes, which
	 * it must not, or a loaded host held the guest up.  Only the first
	 * happens every time: try again, on a new file, a few times.
	 */
	if (WEXITSTATUS(st) == CHILD_EARLY && try < GONE_TRIES) {
		TH_LOG("try %d of %d: %s; again on a new file", try, GONE_TRIES,
		       child_errs[CHILD_EARLY]);
		try++;
		drop_file(self);
		new_file(_metadata, self);
		goto again;
	}
	ASSERT_EQ(CHILD_OK, WEXITSTATUS(st))
		TH_LOG("%s", WEXITSTATUS(st) < ARRAY_SIZE(child_errs) ?
		       child_errs[WEXITSTATUS(st)] : "unknown failure");

	dio_count_stop(_metadata, &self->trace, &c, "writes, then the wait");
	DIO_ASSERT_DECLARED(&c);
	check_paths(_metadata, variant, &c);
}

TEST_HARNESS_MAIN
