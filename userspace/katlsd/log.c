// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - katlsd logging.
 *
 * Every line carries the pid: after fork each handshake runs in its own
 * child, and "katlsd[pid]" is what ties a log line to one request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static bool log_stderr = true;
static int log_max = LOG_INFO;

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

int katlsd_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(s, levels[i].name))
			return levels[i].level;
	return -1;
}

const char *katlsd_log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i].level == level)
			return levels[i].name;
	return level < LOG_ERR ? "error" : "debug";
}

void katlsd_log_open(bool to_stderr, int max_level)
{
	log_stderr = to_stderr;
	log_max = max_level;
	if (!to_stderr)
		openlog("katlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void katlsd_log_detach(void)
{
	if (!log_stderr)
		closelog();
}

void katlsd_log_reopen(void)
{
	if (!log_stderr)
		openlog("katlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void katlsd_log_set_level(int max_level)
{
	log_max = max_level;
}

int katlsd_log_level(void)
{
	return log_max;
}

void katlsd_log_close(void)
{
	if (!log_stderr)
		closelog();
}

void katlsd_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	if (log_stderr) {
		char buf[1024];

		vsnprintf(buf, sizeof(buf), fmt, ap);
		fprintf(stderr, "katlsd[%d]: %s: %s\n", (int)getpid(),
			katlsd_log_level_name(level), buf);
	} else {
		vsyslog(level, fmt, ap);
	}
	va_end(ap);
}
