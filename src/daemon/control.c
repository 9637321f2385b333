/* SPDX-License-Identifier: BSD-2-Clause */
#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define CMD_MAX 128

typedef struct client {
  uv_pipe_t pipe; /* pipe.data = this */
  uv_timer_t timer;
  uv_write_t wreq;
  nb_control_t *ctl;
  size_t slot;
  char cmd[CMD_MAX];
  size_t len;
  bool replied;
  int open_handles;
  nb_sbuf_t reply;
} client_t;

struct nb_control {
  char path[NB_CONFIG_PATH_MAX + 1];
  bool optional;
  uid_t uid;
  gid_t gid;
  nb_daemon_t *d;
  uv_pipe_t server;
  bool listening;
  client_t *clients[NB_CONTROL_MAX_CLIENTS];
  uint64_t served;
  uint64_t refused;
};

nb_control_t *nb_control_new(const char *path, bool optional, uid_t uid,
                             gid_t gid) {
  nb_control_t *c = calloc(1, sizeof *c);
  if (c != NULL) {
    snprintf(c->path, sizeof c->path, "%s", path);
    c->optional = optional;
    c->uid = uid;
    c->gid = gid;
  }
  return c;
}

void nb_control_free(nb_control_t *c) { free(c); }

static void client_closed(uv_handle_t *h) {
  client_t *cl = h->data;
  if (--cl->open_handles == 0) {
    nb_sbuf_free(&cl->reply);
    free(cl);
  }
}

static void client_close(client_t *cl) {
  if (cl->ctl != NULL) {
    cl->ctl->clients[cl->slot] = NULL;
    cl->ctl = NULL;
  }
  if (!uv_is_closing((uv_handle_t *)&cl->pipe)) {
    uv_close((uv_handle_t *)&cl->pipe, client_closed);
  }
  if (!uv_is_closing((uv_handle_t *)&cl->timer)) {
    uv_close((uv_handle_t *)&cl->timer, client_closed);
  }
}

static void on_written(uv_write_t *req, int status) {
  (void)status;
  client_close(req->data);
}

static void answer(client_t *cl, const char *cmd) {
  nb_control_t *c = cl->ctl;
  if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "") == 0) {
    nb_daemon_report(c->d, &cl->reply, NB_REPORT_TEXT);
  } else if (strcmp(cmd, "stats json") == 0) {
    nb_daemon_report(c->d, &cl->reply, NB_REPORT_JSON);
  } else if (strcmp(cmd, "ping") == 0) {
    nb_sbuf_printf(&cl->reply, "pong\n");
  } else {
    nb_sbuf_printf(&cl->reply, "error: unknown command\n");
  }
  if (cl->reply.failed || cl->reply.p == NULL) {
    client_close(cl);
    return;
  }
  c->served++;
  cl->replied = true;
  cl->wreq.data = cl;
  uv_buf_t b = uv_buf_init(cl->reply.p, (unsigned)cl->reply.len);
  if (uv_write(&cl->wreq, (uv_stream_t *)&cl->pipe, &b, 1, on_written) != 0) {
    client_close(cl);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  client_t *cl = h->data;
  (void)suggested;
  *buf = uv_buf_init(cl->cmd + cl->len, (unsigned)(CMD_MAX - 1 - cl->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *cl = s->data;
  (void)buf;
  if (cl->replied || cl->ctl == NULL) {
    return;
  }
  if (nread > 0) {
    cl->len += (size_t)nread;
  }
  char *nl = memchr(cl->cmd, '\n', cl->len);
  if (nl == NULL && nread >= 0 && cl->len < CMD_MAX - 1) {
    return; /* wait for the rest of the line */
  }
  size_t end = nl != NULL ? (size_t)(nl - cl->cmd) : cl->len;
  if (end > 0 && cl->cmd[end - 1] == '\r') {
    end--;
  }
  cl->cmd[end] = '\0';
  uv_read_stop(s);
  answer(cl, cl->cmd);
}

static void on_timeout(uv_timer_t *t) { client_close(t->data); }

static int free_slot(const nb_control_t *c) {
  for (int i = 0; i < NB_CONTROL_MAX_CLIENTS; i++) {
    if (c->clients[i] == NULL) {
      return i;
    }
  }
  return -1;
}

static void on_connection(uv_stream_t *server, int status) {
  nb_control_t *c = server->data;
  client_t *cl = status == 0 ? calloc(1, sizeof *cl) : NULL;
  if (cl == NULL) {
    return;
  }
  cl->pipe.data = cl->timer.data = cl;
  uv_pipe_init(c->d->loop, &cl->pipe, 0);
  uv_timer_init(c->d->loop, &cl->timer);
  cl->open_handles = 2;
  int slot = free_slot(c);
  if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 || slot < 0) {
    c->refused++;
    client_close(cl);
    return;
  }
  cl->ctl = c;
  cl->slot = (size_t)slot;
  c->clients[slot] = cl;
  uv_timer_start(&cl->timer, on_timeout, NB_CONTROL_TIMEOUT_MS, 0);
  uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read);
}

/* A leftover socket from a dead nbtd is removed; a live one is an error. */
static int clear_path(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    return errno == ENOENT ? 0 : -errno;
  }
  if (!S_ISSOCK(st.st_mode)) {
    return UV_EEXIST;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  int live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
  if (fd >= 0) {
    close(fd);
  }
  if (live) {
    return UV_EADDRINUSE;
  }
  return unlink(path) == 0 ? 0 : -errno;
}

/* Create the socket's directory when missing (one level, like systemd's
 * RuntimeDirectory=) and give it to the user nbtd becomes. */
static void make_dir(const nb_control_t *c) {
  char dir[NB_CONFIG_PATH_MAX + 1];
  snprintf(dir, sizeof dir, "%s", c->path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir) {
    return;
  }
  *slash = '\0';
  if (mkdir(dir, 0755) == 0 && c->uid != (uid_t)-1) {
    if (chown(dir, c->uid, c->gid) != 0) {
      nb_log_warn("control: chown %s: %s", dir, strerror(errno));
    }
  }
}

static int ctl_start(void *self, nb_daemon_t *d) {
  nb_control_t *c = self;
  c->d = d;
  if (c->path[0] == '\0') {
    return 0;
  }
  make_dir(c);
  int rc = clear_path(c->path);
  if (rc == 0) {
    rc = uv_pipe_init(d->loop, &c->server, 0);
    c->server.data = c;
    c->listening = rc == 0;
  }
  if (rc == 0) {
    rc = uv_pipe_bind(&c->server, c->path);
  }
  if (rc == 0) {
    chmod(c->path, 0666);
    if (c->uid != (uid_t)-1 && chown(c->path, c->uid, c->gid) != 0) {
      nb_log_info("control: chown %s: %s", c->path, strerror(errno));
    }
    rc = uv_listen((uv_stream_t *)&c->server, 8, on_connection);
  }
  if (rc != 0 && c->optional) {
    nb_log_warn("control: %s: %s; running without a control socket", c->path,
                uv_strerror(rc));
    if (c->listening) {
      uv_close((uv_handle_t *)&c->server, NULL);
      c->listening = false;
    }
    return 0;
  }
  if (rc != 0) {
    nb_log_err("control: %s: %s", c->path, uv_strerror(rc));
  }
  return rc;
}

static void ctl_close(void *self) {
  nb_control_t *c = self;
  for (size_t i = 0; i < NB_CONTROL_MAX_CLIENTS; i++) {
    if (c->clients[i] != NULL) {
      client_close(c->clients[i]);
    }
  }
  if (c->listening && !uv_is_closing((uv_handle_t *)&c->server)) {
    uv_close((uv_handle_t *)&c->server, NULL);
    if (unlink(c->path) != 0 && errno != ENOENT) {
      nb_log_info("control: cannot remove %s: %s", c->path, strerror(errno));
    }
  }
}

static void ctl_report(const void *self, nb_sbuf_t *out, nb_report_fmt_t fmt) {
  const nb_control_t *c = self;
  if (fmt == NB_REPORT_JSON) {
    nb_sbuf_printf(out, "{\"served\":%llu,\"refused\":%llu}",
                   (unsigned long long)c->served,
                   (unsigned long long)c->refused);
  } else {
    nb_sbuf_printf(out, "control.served %llu\ncontrol.refused %llu\n",
                   (unsigned long long)c->served,
                   (unsigned long long)c->refused);
  }
}

const nb_service_ops_t nb_control_ops = {
    "control", ctl_start, NULL, NULL, ctl_close, ctl_report,
};
