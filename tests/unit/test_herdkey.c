/* test_herdkey.c: the herd key file, made once and read by everyone. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herdkey.h"
#include "unit.h"

static void
test_created(void)
{
	unsigned char	*a, *b;
	size_t		 alen, blen;
	char		 dir[64], path[256], *cause = NULL;
	struct stat	 st;

	if (unit_mkdir(dir, sizeof dir) != 0)
		return;
	snprintf(path, sizeof path, "%s/herd.key", dir);
	CU_ASSERT_EQUAL_FATAL(herdkey_load(path, &a, &alen, &cause), 0);
	CU_ASSERT_EQUAL(alen, HERDKEY_NEW_SIZE);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(st.st_size, HERDKEY_NEW_SIZE);
	/* Read again: the same key, not a new one. */
	CU_ASSERT_EQUAL_FATAL(herdkey_load(path, &b, &blen, &cause), 0);
	CU_ASSERT_EQUAL(blen, alen);
	CU_ASSERT_EQUAL(memcmp(a, b, alen), 0);
	free(a);
	free(b);
	unit_rmdir(dir);
}

/* Eight processes race to make the key: all end with the same one. */
static void
test_race(void)
{
	unsigned char	*key, *got;
	size_t		 len, glen;
	char		 dir[64], path[256], *cause = NULL;
	int		 i, fds[8][2], status;
	pid_t		 pids[8];
	ssize_t		 n;
	DIR		*d;
	struct dirent	*e;

	if (unit_mkdir(dir, sizeof dir) != 0)
		return;
	snprintf(path, sizeof path, "%s/herd.key", dir);
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL_FATAL(pipe(fds[i]), 0);
		if ((pids[i] = fork()) == 0) {
			close(fds[i][0]);
			if (herdkey_load(path, &key, &len, &cause) != 0)
				_exit(1);
			_exit(write(fds[i][1], key, len) == (ssize_t)len ? 0 : 1);
		}
		close(fds[i][1]);
	}
	CU_ASSERT_EQUAL_FATAL(herdkey_load(path, &key, &len, &cause), 0);
	got = malloc(HERDKEY_MAX_SIZE);
	for (i = 0; i < 8; i++) {
		n = read(fds[i][0], got, HERDKEY_MAX_SIZE);
		glen = n > 0 ? (size_t)n : 0;
		CU_ASSERT_EQUAL(glen, len);
		CU_ASSERT_EQUAL(memcmp(got, key, len), 0);
		close(fds[i][0]);
		waitpid(pids[i], &status, 0);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* No temporary file is left behind. */
	d = opendir(dir);
	while ((e = readdir(d)) != NULL)
		CU_ASSERT_TRUE(e->d_name[0] == '.' ||
		    strcmp(e->d_name, "herd.key") == 0);
	closedir(d);
	free(got);
	free(key);
	unit_rmdir(dir);
}

static void
test_errors(void)
{
	unsigned char	*key;
	size_t		 len;
	char		 dir[64], path[256], *cause = NULL;
	FILE		*f;

	if (unit_mkdir(dir, sizeof dir) != 0)
		return;
	/* An empty key file is an error, not a key. */
	snprintf(path, sizeof path, "%s/empty.key", dir);
	f = fopen(path, "w");
	fclose(f);
	chmod(path, 0600);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "must hold 1 to 4096 bytes"));
	free(cause);
	cause = NULL;

	/* Any bytes are a key: one byte, NULs, newlines. */
	f = fopen(path, "w");
	fwrite("\0\n", 1, 2, f);
	fclose(f);
	chmod(path, 0640);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), 0);
	CU_ASSERT_EQUAL(len, 2);
	free(key);

	/* A key everyone can read is refused. */
	chmod(path, 0644);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "readable by everyone (mode "
	    "0644)"));
	free(cause);
	cause = NULL;

	/* A folder that does not exist cannot hold a new key. */
	snprintf(path, sizeof path, "%s/nowhere/herd.key", dir);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "No such file"));
	free(cause);
	unit_rmdir(dir);
}

void
suite_herdkey(void)
{
	UNIT_SUITE("herdkey",
	    { "created", test_created },
	    { "race", test_race },
	    { "errors", test_errors });
}
