/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - katlsd logging: syslog (the journal under systemd), or stderr
 * with --foreground.  Levels are syslog's.
 */
#ifndef KATLSD_LOG_H
#define KATLSD_LOG_H

#include <stdbool.h>
#include <syslog.h>

void katlsd_log_open(bool to_stderr, int max_level);
void katlsd_log_set_level(int max_level);
int katlsd_log_level(void);
void katlsd_log_close(void);
/*
 * The sandbox: let go of the syslog socket before its descriptors are
 * closed, connect again once confined (stderr logging: no-ops).
 */
void katlsd_log_detach(void);
void katlsd_log_reopen(void);

__attribute__((format(printf, 2, 3)))
void katlsd_log(int level, const char *fmt, ...);

/* "error", "warning", "notice", "info", "debug" -> LOG_*; -1 if unknown */
int katlsd_log_level_parse(const char *s);
const char *katlsd_log_level_name(int level);

#define kerr(...)	katlsd_log(LOG_ERR, __VA_ARGS__)
#define kwarn(...)	katlsd_log(LOG_WARNING, __VA_ARGS__)
#define knotice(...)	katlsd_log(LOG_NOTICE, __VA_ARGS__)
#define kinfo(...)	katlsd_log(LOG_INFO, __VA_ARGS__)
#define kdebug(...)	katlsd_log(LOG_DEBUG, __VA_ARGS__)

#endif /* KATLSD_LOG_H */
