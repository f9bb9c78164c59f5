// SPDX-License-Identifier: GPL-2.0
/*
 * dio_fio_verify: fio's own data verification over async O_DIRECT random
 * overwrites, io_uring and libaio, queue depths 1 to 16.
 *
 * A second, independent checker next to dio_rw_verify: fio writes a
 * crc32c-checked header into every 4 KiB block of a preallocated, fully
 * written file (so every write is a pure overwrite, the case the series
 * completes inline), then reads everything back and verifies it.  The
 * test runs /usr/bin/fio as a child and passes when it exits 0 and its
 * JSON report shows no error and every byte written and read back: a fio
 * that did nothing cannot pass.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/dio.h"
#include "lib/expect.h"

#define FIO		"/usr/bin/fio"
#define NBLOCKS		256u	/* 1 MiB: a few seconds per run under TCG */
#define SEED_OLD	0x66696f2d6f6c6421ULL

FIXTURE(dio_fio_verify) {
	char path[PATH_MAX];
	bool created;
	char json[PATH_MAX];	/* fio's report */
	char log[PATH_MAX];	/* fio's stderr */
};

FIXTURE_VARIANT(dio_fio_verify) {
	const char *name;
	const char *engine;	/* fio's ioengine */
	unsigned int qd;
};

#define FIO_VARIANT(eng, depth)						\
	FIXTURE_VARIANT_ADD(dio_fio_verify, eng##_qd##depth) {		\
		.name = #eng "_qd" #depth,				\
		.engine = #eng,						\
		.qd = depth,						\
	}

FIO_VARIANT(io_uring, 1);
FIO_VARIANT(io_uring, 2);
FIO_VARIANT(io_uring, 4);
FIO_VARIANT(io_uring, 8);
FIO_VARIANT(io_uring, 16);
FIO_VARIANT(libaio, 1);
FIO_VARIANT(libaio, 2);
FIO_VARIANT(libaio, 4);
FIO_VARIANT(libaio, 8);
FIO_VARIANT(libaio, 16);

FIXTURE_SETUP(dio_fio_verify)
{
	dio_setup_file(_metadata, self->path, sizeof(self->path),
		       "dio_fio_verify", variant->name, NBLOCKS, SEED_OLD);
	self->created = true;
	/* Reports in /tmp (the initramfs), not on the filesystem under test. */
	snprintf(self->json, sizeof(self->json), "/tmp/fio.%s.%d.json",
		 variant->name, (int)getpid());
	snprintf(self->log, sizeof(self->log), "/tmp/fio.%s.%d.log",
		 variant->name, (int)getpid());
}

FIXTURE_TEARDOWN(dio_fio_verify)
{
	/* No ASSERT in teardown: in 6.1 it would run teardown again. */
	unlink(self->json);
	unlink(self->log);
	if (self->created && unlink(self->path))
		TH_LOG("unlink %s: %s", self->path, strerror(errno));
}

/*
 * The number after the first "@key" : that follows @from in @s, or -1.
 * fio's JSON is regular enough ("key" : value, one per line) for this.
 */
static long long json_num_after(const char *s, const char *from,
				const char *key)
{
	char pat[64];
	const char *p = from ? strstr(s, from) : s;

	if (!p)
		return -1;
	snprintf(pat, sizeof(pat), "\"%s\" : ", key);
	p = strstr(p, pat);
	if (!p)
		return -1;
	return strtoll(p + strlen(pat), NULL, 10);
}

/* Log the last lines fio wrote to stderr. */
static void log_tail(struct __test_metadata *_metadata, const char *path)
{
	char *text, *p;
	int lines = 0;

	if (dio_ctl_read_all(path, &text))
		return;
	for (p = text + strlen(text); p > text; p--)
		if (p[-1] == '\n' && ++lines > 10)
			break;
	TH_LOG("fio stderr (tail):\n%s", p);
	free(text);
}

TEST_F_TIMEOUT(dio_fio_verify, randwrite_verify, DIO_TEST_TIMEOUT)
{
	char name[64], qd[16], size[32], out[PATH_MAX + 16], *json = NULL;
	const char *job;
	long long v;
	pid_t pid;
	int status, ret;

	ASSERT_EQ(0, access(FIO, X_OK)) TH_LOG("%s: %s", FIO, strerror(errno));
	snprintf(name, sizeof(name), "randwrite_4k_qd%u_%s", variant->qd,
		 variant->engine);
	snprintf(qd, sizeof(qd), "--iodepth=%u", variant->qd);
	snprintf(size, sizeof(size), "--size=%u", NBLOCKS * DIO_BS);
	snprintf(out, sizeof(out), "--output=%s", self->json);
	TH_LOG("%s on %s", name, self->path);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char fname[PATH_MAX + 16], jname[80], eng[32];
		int fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 ||
		    dup2(fd, STDOUT_FILENO) < 0 || chdir("/tmp"))
			_exit(126);
		snprintf(fname, sizeof(fname), "--filename=%s", self->path);
		snprintf(jname, sizeof(jname), "--name=%s", name);
		snprintf(eng, sizeof(eng), "--ioengine=%s", variant->engine);
		execl(FIO, FIO, jname, fname, eng, qd, size,
		      "--rw=randwrite", "--bs=4k", "--direct=1",
		      /* Overwrite the file as it is: no layout, no fallocate. */
		      "--fallocate=none", "--overwrite=0",
		      /* Every block once (random map), then all read back. */
		      "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
		      "--verify_state_save=0", "--randrepeat=1",
		      "--output-format=json", out, (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_tail(_metadata, self->log);
		ASSERT_TRUE(WIFEXITED(status))
			TH_LOG("fio killed by signal %d", WTERMSIG(status));
		ASSERT_EQ(0, WEXITSTATUS(status))
			TH_LOG("fio exited %d (126: redirect failed, 127: exec failed)",
			       WEXITSTATUS(status));
	}

	ret = dio_ctl_read_all(self->json, &json);
	ASSERT_EQ(0, ret) TH_LOG("fio report %s: %s", self->json,
				 strerror(-ret));
	job = strstr(json, name);
	if (!job)
		free(json);
	ASSERT_NE(NULL, job) TH_LOG("no job %s in the fio report", name);

	v = json_num_after(job, NULL, "error");
	EXPECT_EQ(0, v) TH_LOG("fio job error %lld", v);
	/* Every block written once, and read back once by the verify pass. */
	v = json_num_after(job, "\"write\" : {", "io_bytes");
	EXPECT_EQ((long long)NBLOCKS * DIO_BS, v)
		TH_LOG("fio wrote %lld bytes", v);
	v = json_num_after(job, "\"read\" : {", "io_bytes");
	EXPECT_EQ((long long)NBLOCKS * DIO_BS, v)
		TH_LOG("fio verified %lld bytes", v);
	free(json);
}

TEST_HARNESS_MAIN
