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

/* Write len bytes of c to path, with mode. */
static void
write_key(const char *path, int c, size_t len, mode_t mode)
{
	FILE	*f;
	size_t	 i;

	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (i = 0; i < len; i++)
		fputc(c, f);
	fclose(f);
	chmod(path, mode);
}

/* herdkey_load must fail on path with a message holding want. */
static void
check_refused(const char *path, const char *want)
{
	unsigned char	*key = NULL;
	size_t		 len;
	char		*cause = NULL;

	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), -1);
	CU_ASSERT_PTR_NULL(key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cause);
	if (strstr(cause, want) == NULL) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", cause, want);
		CU_FAIL("wrong message");
	}
	/* Every refusal says how to make a good key. */
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "herdctl genkey FILE"));
	free(cause);
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
	/* An empty or short key file is an error, not a key. */
	snprintf(path, sizeof path, "%s/short.key", dir);
	write_key(path, 'k', 0, 0600);
	check_refused(path, "short.key: a herd key must hold 32 to 4096 "
	    "bytes, not 0;");
	write_key(path, 'k', 31, 0600);
	check_refused(path, "must hold 32 to 4096 bytes, not 31;");
	write_key(path, 'k', 4097, 0600);
	check_refused(path, "must hold 32 to 4096 bytes, not over 4096;");
	write_key(path, 'k', 4096, 0600);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), 0);
	CU_ASSERT_EQUAL(len, 4096);
	free(key);

	/* Any bytes are a key: NULs, newlines. */
	write_key(path, '\0', 31, 0640);
	f = fopen(path, "a");
	fputc('\n', f);
	fclose(f);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), 0);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(key[31], '\n');
	free(key);

	/* A key everyone can read, or others can write, is refused. */
	chmod(path, 0644);
	check_refused(path, "readable by everyone (mode 0644)");
	chmod(path, 0602);
	check_refused(path, "writable by group or others (mode 0602)");
	chmod(path, 0622);
	check_refused(path, "writable by group or others (mode 0622)");
	chmod(path, 0660);
	check_refused(path, "writable by group or others (mode 0660)");
	chmod(path, 0400);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), 0);
	free(key);

	/* A folder that does not exist cannot hold a new key. */
	snprintf(path, sizeof path, "%s/nowhere/herd.key", dir);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "No such file"));
	free(cause);
	unit_rmdir(dir);
}

/*
 * The owner check, on a status made up here (chown needs root; the e2e
 * tests chown a real file when they run as root).
 */
static void
test_owner(void)
{
	struct stat	 st;
	char		*cause = NULL;

	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 1000;
	CU_ASSERT_EQUAL(herdkey_check("k", &st, 1000, 32, &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	CU_ASSERT_EQUAL(herdkey_check("k", &st, 0, 32, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cause);
	CU_ASSERT_STRING_EQUAL(cause, "k: owned by uid 1000, not by this "
	    "member's user (uid 0); chown it, or make a key as that user "
	    "with \"herdctl genkey FILE\"");
	free(cause);
	cause = NULL;
	st.st_uid = 65534;
	CU_ASSERT_EQUAL(herdkey_check("k", &st, 1000, 32, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
}

/* herdkey_new makes a key and never replaces one. */
static void
test_new(void)
{
	unsigned char	*key;
	size_t		 len;
	char		 dir[64], path[256], *cause = NULL;
	struct stat	 st;

	if (unit_mkdir(dir, sizeof dir) != 0)
		return;
	snprintf(path, sizeof path, "%s/new.key", dir);
	CU_ASSERT_EQUAL(herdkey_new(path, &cause), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, HERDKEY_NEW_SIZE);
	CU_ASSERT_EQUAL(herdkey_load(path, &key, &len, &cause), 0);
	CU_ASSERT_EQUAL(len, HERDKEY_NEW_SIZE);
	free(key);

	/* An existing file, even a short one, is left as it is. */
	write_key(path, 'x', 3, 0600);
	CU_ASSERT_EQUAL(herdkey_new(path, &cause), 1);
	CU_ASSERT_PTR_NULL(cause);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 3);

	snprintf(path, sizeof path, "%s/nowhere/new.key", dir);
	CU_ASSERT_EQUAL(herdkey_new(path, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	unit_rmdir(dir);
}

void
suite_herdkey(void)
{
	UNIT_SUITE("herdkey",
	    { "created", test_created },
	    { "race", test_race },
	    { "errors", test_errors },
	    { "owner", test_owner },
	    { "new", test_new });
}
