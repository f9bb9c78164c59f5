// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers for the guest-side O_DIRECT tests: environment, buffers,
 * data patterns, test files and the io_uring / libaio engine abstraction.
 * See dio.h for the contracts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <libaio.h>
#include <liburing.h>

#include "dio.h"

/* Blocks per bounce buffer when filling or reading back a whole file. */
#define DIO_CHUNK_BLOCKS	64u

/* ------------------------------------------------------------------ */
/* Environment.                                                        */

static const char *dio_getenv(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

const char *dio_env_dir(void)
{
	return dio_getenv("DIO_TEST_DIR");
}

const char *dio_env_fs(void)
{
	return dio_getenv("DIO_TEST_FS");
}

const char *dio_env_dev(void)
{
	return dio_getenv("DIO_TEST_DEV");
}

uint64_t dio_env_completion_delay_ns(void)
{
	const char *v = dio_getenv("DIO_TEST_COMPLETION_DELAY_NS");

	return v ? strtoull(v, NULL, 10) : 0;
}

const char *dio_env_nullb_config(void)
{
	return dio_getenv("DIO_TEST_NULLB_CONFIG");
}

int dio_env_does(void)
{
	static const struct {
		const char *word;
		int bit;
	} words[] = {
		{ "ctx_event",	 DIO_DOES_CTX_EVENT },
		{ "irq_writes",	 DIO_DOES_IRQ_WRITES },
		{ "caller_comp", DIO_DOES_CALLER_COMP },
		{ "handback_ctx", DIO_DOES_HANDBACK_CTX },
		{ "ovl_task",	 DIO_DOES_OVL_TASK },
	};
	const char *v = dio_getenv("DIO_TEST_EXPECT");
	char buf[128], *w, *save;
	int does = 0;
	size_t i;

	if (!v || strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
		if (!strcmp(w, "none"))
			continue;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(w, words[i].word))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return -1;
		does |= words[i].bit;
	}
	return does;
}

const char *dio_env_blkname(void)
{
	const char *dev = dio_env_dev();
	const char *slash;

	if (!dev)
		return NULL;
	slash = strrchr(dev, '/');
	return slash ? slash + 1 : dev;
}

bool dio_selftest_fail(void)
{
	const char *v = dio_getenv("DIO_SELFTEST_FAIL");

	return v && !strcmp(v, "1");
}

uint64_t dio_expect_seed(uint64_t seed)
{
	/*
	 * Any fixed flip will do: the result only has to differ from every
	 * seed a test writes with, so that no block can match by accident.
	 */
	return dio_selftest_fail() ? seed ^ 0xbadc0ffee0ddf00dULL : seed;
}

/* ------------------------------------------------------------------ */
/* Control files.                                                      */

int dio_ctl_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	/* tracefs reports some trigger errors only at close. */
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int dio_ctl_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, ret = 0;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		ret = -errno;
		n = 0;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	close(fd);
	return ret;
}

int dio_ctl_read_all(const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf, *nbuf;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (cap - len < 2) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				ret = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Buffers.                                                            */

void *dio_alloc(size_t len)
{
	void *p;
	int ret;

	ret = posix_memalign(&p, DIO_ALIGN, len);
	if (ret) {
		errno = ret;
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* Data patterns.                                                      */

/* The splitmix64 finaliser: a cheap bijective 64-bit mixer. */
static uint64_t dio_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t dio_pattern_word(uint64_t seed, uint64_t block, uint64_t word)
{
	/*
	 * Mix block and seed first, then the word index, so that neighbouring
	 * words, neighbouring blocks and different seeds all give unrelated
	 * values (a plain counter would let a block shifted by one word, or
	 * one block at the wrong offset, look almost right).
	 */
	return dio_mix64(dio_mix64(seed ^ dio_mix64(block)) + word);
}

void dio_pattern_fill(void *buf, size_t bs, uint64_t seed, uint64_t block)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < bs / sizeof(*w); i++)
		w[i] = dio_pattern_word(seed, block, i);
}

int dio_pattern_check(const void *buf, size_t bs, uint64_t nblocks,
		      uint64_t seed, uint64_t first, struct dio_mismatch *mm)
{
	const uint64_t *w = buf;
	size_t words = bs / sizeof(*w);
	uint64_t b;
	size_t i;

	for (b = 0; b < nblocks; b++, w += words) {
		for (i = 0; i < words; i++) {
			uint64_t want = dio_pattern_word(seed, first + b, i);

			if (w[i] == want)
				continue;
			mm->block = first + b;
			mm->offset = i * sizeof(*w);
			mm->want = want;
			mm->got = w[i];
			return 1;
		}
	}
	return 0;
}

int64_t dio_pattern_whose(const void *buf, uint64_t seed, uint64_t nblocks)
{
	const uint64_t *w = buf;
	uint64_t b;

	for (b = 0; b < nblocks; b++)
		if (w[0] == dio_pattern_word(seed, b, 0))
			return b;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Deterministic randomness.                                           */

uint64_t dio_rand_next(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return dio_mix64(*state);
}

void dio_permutation(uint32_t *idx, uint32_t n, uint64_t seed)
{
	uint64_t state = seed;
	uint32_t i;

	for (i = 0; i < n; i++)
		idx[i] = i;
	/* Fisher-Yates; the modulo bias is irrelevant at these sizes. */
	for (i = n; i > 1; i--) {
		uint32_t j = dio_rand_next(&state) % i;
		uint32_t t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* ------------------------------------------------------------------ */
/* Test files.                                                         */

int dio_file_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s.%d", dir, name, (int)getpid());

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* pwrite/pread all of @len, retrying short transfers: 0 or -errno. */
static int dio_pio_full(int fd, bool write, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, off) :
				    pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* EOF (or a 0-byte write) inside the file: never expected. */
		if (n == 0)
			return -ENODATA;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* FIEMAP (FIEMAP_FLAG_SYNC) of [@off, @off + @len) of @fd into @m. */
struct dio_fiemap {
	struct fiemap fm;
	struct fiemap_extent ext[32];
};

static int dio_fiemap(int fd, off_t off, size_t len, struct dio_fiemap *m)
{
	memset(m, 0, sizeof(*m));
	m->fm.fm_start = off;
	m->fm.fm_length = len;
	m->fm.fm_flags = FIEMAP_FLAG_SYNC;
	m->fm.fm_extent_count = sizeof(m->ext) / sizeof(m->ext[0]);
	if (ioctl(fd, FS_IOC_FIEMAP, &m->fm))
		return -errno;
	return m->fm.fm_mapped_extents ? 0 : -ENODATA;
}

int dio_range_unwritten(int fd, off_t off, size_t len)
{
	struct dio_fiemap m;
	unsigned int i;
	int ret;

	ret = dio_fiemap(fd, off, len, &m);
	if (ret)
		return ret;
	for (i = 0; i < m.fm.fm_mapped_extents; i++)
		if (m.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
			return 1;
	return 0;
}

int dio_file_physical(int fd, off_t off, uint64_t *phys)
{
	struct dio_fiemap m;
	int ret;

	ret = dio_fiemap(fd, off, 1, &m);
	if (ret)
		return ret;
	if (m.fm.fm_extents[0].fe_flags & FIEMAP_EXTENT_UNKNOWN)
		return -ENODATA;
	*phys = m.fm.fm_extents[0].fe_physical +
		(off - m.fm.fm_extents[0].fe_logical);
	return 0;
}

int dio_drop_cache(int fd, bool sync)
{
	int ret;

	/* DONTNEED skips dirty pages, so write them back first. */
	if (sync && fsync(fd))
		return -errno;
	ret = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return -ret;
}

int dio_file_prepare(const char *path, uint64_t nblocks, uint64_t seed)
{
	size_t chunk = DIO_CHUNK_BLOCKS * DIO_BS;
	uint64_t b, n;
	char *buf;
	int fd, ret;

	buf = dio_alloc(chunk);
	if (!buf)
		return -errno;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}

	/*
	 * Allocate first, then overwrite: the blocks start out as unwritten
	 * extents and the buffered writes + fsync convert them, so the test
	 * starts from written, mapped extents however the fs allocates.
	 */
	if (fallocate(fd, 0, 0, nblocks * DIO_BS)) {
		ret = -errno;
		goto fail;
	}

	for (b = 0; b < nblocks; b += n) {
		uint64_t i;

		n = nblocks - b < DIO_CHUNK_BLOCKS ? nblocks - b :
						     DIO_CHUNK_BLOCKS;
		for (i = 0; i < n; i++)
			dio_pattern_fill(buf + i * DIO_BS, DIO_BS, seed, b + i);
		ret = dio_pio_full(fd, true, buf, n * DIO_BS, b * DIO_BS);
		if (ret)
			goto fail;
	}

	ret = dio_drop_cache(fd, true);
	if (ret)
		goto fail;
	if (close(fd)) {
		fd = -1;
		ret = -errno;
		goto fail;
	}
	free(buf);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(buf);
	return ret;
}

int dio_read_verify(int fd, uint64_t nblocks, uint64_t seed,
		    struct dio_mismatch *mm)
{
	size_t chunk = DIO_CHUNK_BLOCKS * DIO_BS;
	uint64_t b, n;
	char *buf;
	int ret = 0;

	buf = dio_alloc(chunk);
	if (!buf)
		return -errno;

	for (b = 0; b < nblocks; b += n) {
		n = nblocks - b < DIO_CHUNK_BLOCKS ? nblocks - b :
						     DIO_CHUNK_BLOCKS;
		/* Poison, so a read that silently did nothing cannot pass. */
		memset(buf, 0xa5, n * DIO_BS);
		ret = dio_pio_full(fd, false, buf, n * DIO_BS, b * DIO_BS);
		if (ret)
			break;
		ret = dio_pattern_check(buf, DIO_BS, n, seed, b, mm);
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Async I/O engines.                                                  */

struct dio_engine {
	enum dio_engine_type type;
	unsigned int depth;
	unsigned int queued;	/* prepared, not yet submitted */
	unsigned int inflight;	/* submitted, not yet reaped */
	union {
		struct {
			struct io_uring ring;
			struct io_uring_cqe **cqes;
		} uring;
		struct {
			io_context_t ctx;
			struct iocb *iocbs;
			struct iocb **free;	/* stack of unused iocbs */
			unsigned int nfree;
			struct iocb **pending;	/* queued, in order */
			struct io_event *events;
		} aio;
	};
};

const char *dio_engine_name(enum dio_engine_type type)
{
	switch (type) {
	case DIO_ENGINE_IO_URING:
		return "io_uring";
	case DIO_ENGINE_LIBAIO:
		return "libaio";
	default:
		return "unknown";
	}
}

static int dio_uring_init(struct dio_engine *e)
{
	int ret;

	e->uring.cqes = calloc(e->depth, sizeof(*e->uring.cqes));
	if (!e->uring.cqes)
		return -ENOMEM;
	/* The CQ ring is twice the SQ: depth in flight cannot overflow it. */
	ret = io_uring_queue_init(e->depth, &e->uring.ring, 0);
	if (ret < 0) {
		free(e->uring.cqes);
		return ret;
	}
	return 0;
}

static int dio_aio_init(struct dio_engine *e)
{
	unsigned int i;
	int ret;

	e->aio.iocbs = calloc(e->depth, sizeof(*e->aio.iocbs));
	e->aio.free = calloc(e->depth, sizeof(*e->aio.free));
	e->aio.pending = calloc(e->depth, sizeof(*e->aio.pending));
	e->aio.events = calloc(e->depth, sizeof(*e->aio.events));
	if (!e->aio.iocbs || !e->aio.free || !e->aio.pending ||
	    !e->aio.events) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < e->depth; i++)
		e->aio.free[i] = &e->aio.iocbs[i];
	e->aio.nfree = e->depth;

	/* libaio returns -errno itself rather than setting errno. */
	ret = io_setup(e->depth, &e->aio.ctx);
	if (ret < 0)
		goto fail;
	return 0;

fail:
	free(e->aio.iocbs);
	free(e->aio.free);
	free(e->aio.pending);
	free(e->aio.events);
	return ret;
}

int dio_engine_init(struct dio_engine **ep, enum dio_engine_type type,
		    unsigned int depth)
{
	struct dio_engine *e;
	int ret;

	if (!depth)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->type = type;
	e->depth = depth;

	switch (type) {
	case DIO_ENGINE_IO_URING:
		ret = dio_uring_init(e);
		break;
	case DIO_ENGINE_LIBAIO:
		ret = dio_aio_init(e);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret) {
		free(e);
		return ret;
	}
	*ep = e;
	return 0;
}

int dio_engine_queue(struct dio_engine *e, enum dio_op op, int fd, void *buf,
		     size_t len, off_t off, void *user)
{
	struct io_uring_sqe *sqe;
	struct iocb *iocb;

	if (e->queued + e->inflight >= e->depth)
		return -EBUSY;

	switch (e->type) {
	case DIO_ENGINE_IO_URING:
		sqe = io_uring_get_sqe(&e->uring.ring);
		if (!sqe)
			return -EBUSY;
		if (op == DIO_OP_WRITE)
			io_uring_prep_write(sqe, fd, buf, len, off);
		else
			io_uring_prep_read(sqe, fd, buf, len, off);
		io_uring_sqe_set_data(sqe, user);
		break;
	case DIO_ENGINE_LIBAIO:
		iocb = e->aio.free[--e->aio.nfree];
		if (op == DIO_OP_WRITE)
			io_prep_pwrite(iocb, fd, buf, len, off);
		else
			io_prep_pread(iocb, fd, buf, len, off);
		iocb->data = user;
		e->aio.pending[e->queued] = iocb;
		break;
	default:
		return -EINVAL;
	}
	e->queued++;
	return 0;
}

int dio_engine_submit(struct dio_engine *e)
{
	unsigned int done = 0;
	int ret;

	switch (e->type) {
	case DIO_ENGINE_IO_URING:
		if (!e->queued)
			return 0;
		ret = io_uring_submit(&e->uring.ring);
		if (ret < 0)
			return ret;
		/* Anything not consumed stays in the SQ for the next call. */
		done = ret;
		break;
	case DIO_ENGINE_LIBAIO:
		while (done < e->queued) {
			ret = io_submit(e->aio.ctx, e->queued - done,
					e->aio.pending + done);
			if (ret == -EINTR)
				continue;
			if (ret <= 0) {
				if (done)
					break;
				return ret ? ret : -EAGAIN;
			}
			done += ret;
		}
		/* Keep whatever io_submit() left at the head of pending. */
		memmove(e->aio.pending, e->aio.pending + done,
			(e->queued - done) * sizeof(*e->aio.pending));
		break;
	default:
		return -EINVAL;
	}
	e->queued -= done;
	e->inflight += done;
	return done;
}

static int dio_uring_reap(struct dio_engine *e, struct dio_cqe *cqes,
			  unsigned int min, unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int i, n;
	int ret;

	if (min) {
		do {
			ret = io_uring_wait_cqe_nr(&e->uring.ring, &cqe, min);
		} while (ret == -EINTR);
		if (ret < 0)
			return ret;
	}
	n = io_uring_peek_batch_cqe(&e->uring.ring, e->uring.cqes, max);
	for (i = 0; i < n; i++) {
		cqes[i].user = io_uring_cqe_get_data(e->uring.cqes[i]);
		cqes[i].res = e->uring.cqes[i]->res;
	}
	io_uring_cq_advance(&e->uring.ring, n);
	return n;
}

static int dio_aio_reap(struct dio_engine *e, struct dio_cqe *cqes,
			unsigned int min, unsigned int max)
{
	int i, ret;

	do {
		ret = io_getevents(e->aio.ctx, min, max, e->aio.events, NULL);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	for (i = 0; i < ret; i++) {
		struct iocb *iocb = e->aio.events[i].obj;

		cqes[i].user = iocb->data;
		/* res is an unsigned long carrying a negative errno. */
		cqes[i].res = (long)e->aio.events[i].res;
		e->aio.free[e->aio.nfree++] = iocb;
	}
	return ret;
}

int dio_engine_reap(struct dio_engine *e, struct dio_cqe *cqes,
		    unsigned int min, unsigned int max)
{
	int ret;

	/* Never wait for more than can arrive, nor return more than fits. */
	if (max > e->depth)
		max = e->depth;
	if (max > e->inflight)
		max = e->inflight;
	if (min > max)
		min = max;
	if (!max)
		return 0;

	switch (e->type) {
	case DIO_ENGINE_IO_URING:
		ret = dio_uring_reap(e, cqes, min, max);
		break;
	case DIO_ENGINE_LIBAIO:
		ret = dio_aio_reap(e, cqes, min, max);
		break;
	default:
		return -EINVAL;
	}
	if (ret > 0)
		e->inflight -= ret;
	return ret;
}

unsigned int dio_engine_busy(const struct dio_engine *e)
{
	return e->queued + e->inflight;
}

void dio_engine_exit(struct dio_engine *e)
{
	if (!e)
		return;
	switch (e->type) {
	case DIO_ENGINE_IO_URING:
		io_uring_queue_exit(&e->uring.ring);
		free(e->uring.cqes);
		break;
	case DIO_ENGINE_LIBAIO:
		io_destroy(e->aio.ctx);
		free(e->aio.iocbs);
		free(e->aio.free);
		free(e->aio.pending);
		free(e->aio.events);
		break;
	}
	free(e);
}

/* ------------------------------------------------------------------ */
/* A batch of async 4 KiB I/Os.                                        */

static void dio_run_note(struct dio_run *r, int *ret, uint64_t block,
			 long long res, const void *buf)
{
	if (*ret)
		return;		/* keep the first failure */
	if (res != DIO_BS) {
		r->bad_block = block;
		r->bad_res = res;
		*ret = DIO_RUN_BAD_RES;
		return;
	}
	if (r->op == DIO_OP_READ &&
	    dio_pattern_check(buf, DIO_BS, 1, dio_expect_seed(r->seed), block,
			      &r->mm))
		*ret = DIO_RUN_MISMATCH;
}

int dio_run_io(struct dio_run *r)
{
	struct dio_engine *e = NULL;
	struct dio_cqe *cqes = NULL;
	unsigned int *slots = NULL, nfree, i;
	uint32_t next = 0;
	char *bufs = NULL;
	int ret = 0, err = 0, n;

	r->done = 0;
	if (!r->qd || !r->nr)
		return -EINVAL;
	cqes = calloc(r->qd, sizeof(*cqes));
	slots = calloc(r->qd, sizeof(*slots));
	bufs = dio_alloc((size_t)r->qd * DIO_BS);
	if (!cqes || !slots || !bufs) {
		err = -ENOMEM;
		goto out;
	}
	for (nfree = 0; nfree < r->qd; nfree++)
		slots[nfree] = nfree;

	if (r->eng) {
		e = r->eng;
	} else {
		err = dio_engine_init(&e, r->engine, r->qd);
		if (err) {
			e = NULL;
			goto out;
		}
	}

	while (r->done < r->nr) {
		while (next < r->nr && nfree) {
			unsigned int slot = slots[--nfree];
			char *buf = bufs + (size_t)slot * DIO_BS;
			uint64_t blk = r->blocks[next];

			if (r->op == DIO_OP_WRITE)
				dio_pattern_fill(buf, DIO_BS, r->seed, blk);
			else
				memset(buf, 0xa5, DIO_BS);	/* poison */
			/* The user tag is the index into blocks[]. */
			err = dio_engine_queue(e, r->op, r->fd, buf, DIO_BS,
					       (off_t)blk * DIO_BS,
					       (void *)(uintptr_t)((uint64_t)next
						<< 16 | slot));
			if (err)
				goto out;
			next++;
		}
		err = dio_engine_submit(e);
		if (err < 0)
			goto out;
		n = dio_engine_reap(e, cqes, 1, r->qd);
		if (n <= 0) {
			err = n ? n : -EIO;
			goto out;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			uintptr_t tag = (uintptr_t)cqes[i].user;
			unsigned int slot = tag & 0xffff;

			dio_run_note(r, &ret, r->blocks[tag >> 16],
				     cqes[i].res,
				     bufs + (size_t)slot * DIO_BS);
			slots[nfree++] = slot;
			r->done++;
		}
	}
	err = 0;
out:
	/*
	 * Exiting the ring or context waits for whatever is in flight.  A
	 * caller's engine that failed midway may still have I/O in flight
	 * into our buffers: reap it before they are freed.
	 */
	if (!r->eng)
		dio_engine_exit(e);
	else
		while (dio_engine_busy(e) &&
		       dio_engine_reap(e, cqes, 1, r->qd) > 0)
			;
	free(bufs);
	free(slots);
	free(cqes);
	return err < 0 ? err : ret;
}

void dio_run_describe(const struct dio_run *r, int ret, char *buf,
		      size_t len)
{
	const char *op = r->op == DIO_OP_WRITE ? "write" : "read";

	if (ret < 0)
		snprintf(buf, len, "%s qd %u: engine failed after %u of %u %ss: %s",
			 dio_engine_name(r->engine), r->qd, r->done, r->nr, op,
			 strerror(-ret));
	else if (ret == DIO_RUN_BAD_RES)
		snprintf(buf, len, "%s of block %llu: res %lld (%s)", op,
			 (unsigned long long)r->bad_block, r->bad_res,
			 r->bad_res < 0 ? strerror(-r->bad_res) :
			 "short transfer");
	else if (ret == DIO_RUN_MISMATCH)
		snprintf(buf, len, "read of block %llu: wrong data at byte %zu: want %#018llx, got %#018llx",
			 (unsigned long long)r->mm.block, r->mm.offset,
			 (unsigned long long)r->mm.want,
			 (unsigned long long)r->mm.got);
	else
		snprintf(buf, len, "%u %ss done", r->done, op);
}
