/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE 1 /* getrandom, getifaddrs, SOCK_NONBLOCK */
/* nbt stats: read nbtd's counters from its control socket. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nbt.h"
#include "util.h"

#define DEFAULT_SOCKET "/run/nbtd/nbtd.sock"
#define TIMEOUT_MS 3000

static void stats_usage(FILE *f) {
  fprintf(f, "usage: nbt stats [--control PATH] [--json]\n"
             "\n"
             "Print nbtd's counters, drop reasons and name states, read from\n"
             "its control socket (default " DEFAULT_SOCKET ").\n"
             "Exit: 0 success, 2 usage, 3 cannot reach nbtd.\n");
}

static int connect_to(const char *path) {
  struct sockaddr_un sun;
  if (strlen(path) >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Copy the reply to stdout until the server closes (bounded in time). */
static int relay(int fd) {
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, TIMEOUT_MS);
    if (rc == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    ssize_t n = rc > 0 ? read(fd, buf, sizeof buf) : -1;
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return (int)n;
    }
    fwrite(buf, 1, (size_t)n, stdout);
  }
}

int nbt_cmd_stats(int argc, char **argv) {
  const char *path = DEFAULT_SOCKET;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      stats_usage(stdout);
      return NBT_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else {
      stats_usage(stderr);
      return NBT_EXIT_USAGE;
    }
  }
  int fd = connect_to(path);
  const char *cmd = json ? "stats json\n" : "stats\n";
  if (fd < 0 || write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) ||
      relay(fd) != 0) {
    fprintf(stderr, "nbt: stats: %s: %s\n", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return NBT_EXIT_ERROR;
  }
  close(fd);
  return NBT_EXIT_OK;
}
