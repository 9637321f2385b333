/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NBTD_PRIVS_H
#define NBTD_PRIVS_H

/* Process plumbing: dropping root, detaching, the pid file, and systemd's
 * readiness protocol (sd_notify(3), spoken directly: one datagram to
 * $NOTIFY_SOCKET, no libsystemd). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The uid and gid of `user`; 0 or -1 with `err` filled. */
int nb_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
                    size_t cap);

/* Become uid/gid for good: no supplementary groups, real, effective and
 * saved ids all changed, then checked (setuid(0) must fail). 0 or -1 with
 * `err` filled. */
int nb_privs_drop(uid_t uid, gid_t gid, char *err, size_t cap);

/* Fork into the background. The parent waits until the child calls
 * nb_privs_ready() (exit 0) or dies or closes the pipe first (exit 1), so
 * start-up errors reach the caller's exit status. Returns in the child. */
int nb_privs_detach(char *err, size_t cap);

/* Connect to $NOTIFY_SOCKET, if set, while we may still reach it (before
 * dropping root). */
void nb_privs_notify_open(void);

/* Tell the parent (if detached) and systemd (if $NOTIFY_SOCKET) that
 * start-up is complete; detach stdio from the terminal when detached. */
void nb_privs_ready(void);

/* Tell systemd a stop has begun. */
void nb_privs_stopping(void);

/* Write our pid to `path`; 0 or -1 with `err` filled. */
int nb_privs_pid_file(const char *path, char *err, size_t cap);

#endif
