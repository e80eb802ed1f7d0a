/*
 * promtext.c: Prometheus text exposition (version 0.0.4).
 *
 * Counting is a plain increment where things happen; text is made only
 * when somebody scrapes, here.  A family is its "# HELP" and "# TYPE"
 * lines, then its samples, each "name{labels} value"; labels are given
 * already formatted (label="value",...) by callers that build them from
 * names the topology file restricts to letters, digits, '_', '-' and '.',
 * so nothing here needs escaping.  The process_* family follows the
 * client libraries' conventions, read from /proc on Linux.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "promtext.h"

/* "# HELP" and "# TYPE" of family name, of type counter, gauge, ... */
void
promtext_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
promtext_name(struct evbuffer *out, const char *name, const char *labels)
{
	if (labels != NULL && *labels != '\0')
		evbuffer_add_printf(out, "%s{%s} ", name, labels);
	else
		evbuffer_add_printf(out, "%s ", name);
}

/* A sample; labels is NULL or 'a="x",b="y"'. */
void
promtext_uint(struct evbuffer *out, const char *name, const char *labels,
    uint64_t v)
{
	promtext_name(out, name, labels);
	evbuffer_add_printf(out, "%llu\n", (unsigned long long)v);
}

void
promtext_double(struct evbuffer *out, const char *name, const char *labels,
    double v)
{
	promtext_name(out, name, labels);
	if (isnan(v))
		evbuffer_add_printf(out, "NaN\n");
	else if (isinf(v))
		evbuffer_add_printf(out, "%s\n", v > 0 ? "+Inf" : "-Inf");
	else
		evbuffer_add_printf(out, "%.15g\n", v);
}

/*
 * The samples of one histogram: n upper bounds, n + 1 bucket counts (not
 * cumulative; the last is above every bound), and the sum observed.
 */
void
promtext_histogram(struct evbuffer *out, const char *name,
    const char *labels, const double *bounds, const uint64_t *buckets,
    size_t n, double sum)
{
	uint64_t	total = 0;
	size_t		i;
	const char	*sep = labels != NULL && *labels != '\0' ? "," : "";

	if (labels == NULL)
		labels = "";
	for (i = 0; i <= n; i++) {
		total += buckets[i];
		if (i < n)
			evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} "
			    "%llu\n", name, labels, sep, bounds[i],
			    (unsigned long long)total);
		else
			evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} "
			    "%llu\n", name, labels, sep,
			    (unsigned long long)total);
	}
	evbuffer_add_printf(out, "%s_sum%s%s%s %.15g\n", name,
	    *labels != '\0' ? "{" : "", labels, *labels != '\0' ? "}" : "",
	    sum);
	evbuffer_add_printf(out, "%s_count%s%s%s %llu\n", name,
	    *labels != '\0' ? "{" : "", labels, *labels != '\0' ? "}" : "",
	    (unsigned long long)total);
}

/* Wall-clock time, POSIX seconds. */
double
promtext_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Descriptors this process holds, or -1 when /proc cannot tell. */
static int
promtext_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n - 1);		/* the directory's own descriptor */
}

/*
 * The process_* family of this process, which started at POSIX time
 * started: CPU time, memory, descriptors and their limit.
 */
void
promtext_process(struct evbuffer *out, double started)
{
	struct rusage	ru;
	struct rlimit	rl;
	FILE		*f;
	unsigned long	 vsize = 0, rss = 0;
	long		 page = sysconf(_SC_PAGESIZE);
	int		 fds;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		promtext_family(out, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		promtext_double(out, "process_cpu_seconds_total", NULL,
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &vsize, &rss) == 2) {
			promtext_family(out, "process_virtual_memory_bytes",
			    "gauge", "Virtual memory size in bytes.");
			promtext_uint(out, "process_virtual_memory_bytes",
			    NULL, (uint64_t)vsize * (uint64_t)page);
			promtext_family(out, "process_resident_memory_bytes",
			    "gauge", "Resident memory size in bytes.");
			promtext_uint(out, "process_resident_memory_bytes",
			    NULL, (uint64_t)rss * (uint64_t)page);
		}
		fclose(f);
	}
	if ((fds = promtext_fds()) >= 0) {
		promtext_family(out, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		promtext_uint(out, "process_open_fds", NULL, (uint64_t)fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		promtext_family(out, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		promtext_uint(out, "process_max_fds", NULL,
		    (uint64_t)rl.rlim_cur);
	}
	promtext_family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	promtext_double(out, "process_start_time_seconds", NULL, started);
}
