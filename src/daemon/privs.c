/* SPDX-License-Identifier: BSD-2-Clause */
#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NB_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NB_UNDER_ASAN 1
#endif

static int ready_fd = -1;

int nb_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
                    size_t cap) {
  errno = 0;
  struct passwd *pw = getpwnam(user);
  if (pw == NULL) {
    snprintf(err, cap, "unknown user '%s'%s%s", user, errno ? ": " : "",
             errno ? strerror(errno) : "");
    return -1;
  }
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return 0;
}

int nb_privs_drop(uid_t uid, gid_t gid, char *err, size_t cap) {
  if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
      setresuid(uid, uid, uid) != 0) {
    snprintf(err, cap, "cannot become uid %u gid %u: %s", (unsigned)uid,
             (unsigned)gid, strerror(errno));
    return -1;
  }
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 || r != uid ||
      e != uid || s != uid || rg != gid || eg != gid || sg != gid) {
    snprintf(err, cap, "ids not what was asked after the switch");
    return -1;
  }
  if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    snprintf(err, cap, "could regain root after dropping it");
    return -1;
  }
#ifdef NB_UNDER_ASAN
  /* Sanitizer builds only: LeakSanitizer ptrace()s the process at exit,
   * which fails (and can spin) once setuid() has made it non-dumpable. */
  (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
  return 0;
}

int nb_privs_detach(char *err, size_t cap) {
  int p[2];
  if (pipe(p) != 0) {
    snprintf(err, cap, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, cap, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid > 0) {
    char c = 0;
    close(p[1]);
    ssize_t n;
    do {
      n = read(p[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 ? 0 : 1);
  }
  close(p[0]);
  ready_fd = p[1];
  setsid();
  if (chdir("/") != 0) {
    snprintf(err, cap, "chdir /: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static int notify_fd = -1;

void nb_privs_notify_open(void) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sun;
  size_t len = path != NULL ? strlen(path) : 0;
  if (notify_fd >= 0 || len == 0 || len >= sizeof sun.sun_path ||
      (path[0] != '/' && path[0] != '@')) {
    return;
  }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, len);
  if (path[0] == '@') {
    sun.sun_path[0] = '\0'; /* abstract namespace */
  }
  notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  if (notify_fd >= 0 && connect(notify_fd, (struct sockaddr *)&sun, sl) != 0) {
    close(notify_fd);
    notify_fd = -1;
  }
}

static void notify(const char *msg) {
  if (notify_fd >= 0) {
    (void)send(notify_fd, msg, strlen(msg), MSG_NOSIGNAL);
  }
}

void nb_privs_ready(void) {
  notify("READY=1");
  if (ready_fd >= 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      if (null > STDERR_FILENO) {
        close(null);
      }
    }
    (void)write(ready_fd, "1", 1);
    close(ready_fd);
    ready_fd = -1;
  }
}

void nb_privs_stopping(void) { notify("STOPPING=1"); }

int nb_privs_pid_file(const char *path, char *err, size_t cap) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return -1;
  }
  fprintf(f, "%ld\n", (long)getpid());
  if (fclose(f) != 0) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
