/* SPDX-License-Identifier: BSD-2-Clause */
/* nbt session: open a NetBIOS session (the C equivalent of the seed's
 * netbios-session) with the client engine of nb/ssnclient.h, following
 * retargets up to a hop limit; optionally send files as session messages
 * and collect the answers. Shell only: sockets and poll(); the protocol
 * is in the engine. */
#define _GNU_SOURCE /* SOCK_NONBLOCK, getaddrinfo, clock_gettime */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nb/ssnclient.h"
#include "nbt.h"
#include "util.h"

#define MAX_SEND 16
#define OUT_CAP (256u * 1024u)
#define RD_CAP (64u * 1024u)

typedef struct {
  nb_ssnclient_t c;
  nb_ssnclient_config_t cfg;
  uint32_t addr;
  uint16_t port;
  const char *send_path[MAX_SEND];
  size_t n_send;
  uint8_t *send_data[MAX_SEND];
  size_t send_len[MAX_SEND];
  size_t cur;     /* message being written */
  size_t cur_off; /* its bytes taken so far */
  bool cur_begun;
  long expect; /* messages to wait for; -1: one per --send */
  long got;
  uint32_t timeout_ms;
  FILE *out;
  bool quiet;
  int fd;
  bool want_out; /* a write would block: poll for POLLOUT */
  int rc;
  bool done;
  bool ended; /* our FIN was sent */
  uint8_t *obuf;
  uint8_t rbuf[RD_CAP];
} sess_t;

static void session_usage(FILE *f) {
  fprintf(f,
          "usage: nbt session HOST[:PORT] --called NAME [--calling NAME]\n"
          "                   [--send FILE]... [--expect N] [--out FILE]\n"
          "                   [--direct] [--max-retargets N] [--timeout MS]\n"
          "                   [--quiet]\n"
          "\n"
          "Open a NetBIOS session (RFC 1002 4.3) to HOST (port 139; 445 with\n"
          "--direct), following RETARGET responses up to --max-retargets\n"
          "(4) hops. Each --send FILE goes as one session message (at most\n"
          "0x1FFFF bytes; 0xFFFFFF with --direct); then --expect N messages\n"
          "(default: one per --send) are awaited, their bodies appended to\n"
          "--out FILE, and the session ended with FIN.\n"
          "  --called NAME     CALLED NAME, NAME[<XX>][.scope] (<20> if no\n"
          "                    <XX>); *SMBSERVER for any server\n"
          "  --calling NAME    CALLING NAME (default NBT<00>)\n"
          "  --direct          direct TCP (445 framing, no session request)\n"
          "  --timeout MS      bound on each connect+answer and on the\n"
          "                    whole exchange (10000)\n"
          "Prints one line per step. Exit: 0 session opened (and every\n"
          "expected message came), 1 negative response, too many retargets\n"
          "or a protocol error, 2 usage, 3 connect, timeout or I/O error.\n");
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *ipv4_str(uint32_t ip, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffu,
           (ip >> 8) & 0xffu, ip & 0xffu);
  return buf;
}

/* HOST[:PORT]: a dotted quad or a host name (first IPv4 address). */
static int parse_target(sess_t *S, const char *arg) {
  char host[256];
  const char *colon = strrchr(arg, ':');
  size_t hl = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
  struct addrinfo hints;
  struct addrinfo *res = NULL;
  if (hl == 0 || hl >= sizeof host) {
    return -1;
  }
  memcpy(host, arg, hl);
  host[hl] = '\0';
  if (colon != NULL) {
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 1 || p > 65535) {
      return -1;
    }
    S->port = (uint16_t)p;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
    fprintf(stderr, "nbt: session: cannot resolve '%s'\n", host);
    return -2;
  }
  S->addr =
      ntohl(((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr.s_addr);
  freeaddrinfo(res);
  return 0;
}

static int parse_name_arg(nb_name_t *n, const char *text) {
  nb_diag_t d = {NB_OK, 0, NULL};
  if (nb_name_from_text(n, text, strlen(text), &d) != NB_OK) {
    fprintf(stderr, "nbt: session: bad name '%s' at %zu: %s\n", text, d.offset,
            d.field != NULL ? d.field : "?");
    return -1;
  }
  return 0;
}

static int parse_num(const char *s, long max, long *out) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_opt(sess_t *S, int argc, char **argv, int *i,
                     const char **target, const char **out_path) {
  const char *a = argv[*i];
  const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
  long n = 0;
  if (strcmp(a, "--direct") == 0) {
    S->cfg.mode = NB_SSN_MODE_DIRECT;
    return 0;
  }
  if (strcmp(a, "--quiet") == 0) {
    S->quiet = true;
    return 0;
  }
  if (a[0] != '-') {
    if (*target != NULL) {
      return -1;
    }
    *target = a;
    return 0;
  }
  if (v == NULL) {
    return -1;
  }
  (*i)++;
  if (strcmp(a, "--called") == 0) {
    return parse_name_arg(&S->cfg.called, v);
  }
  if (strcmp(a, "--calling") == 0) {
    return parse_name_arg(&S->cfg.calling, v);
  }
  if (strcmp(a, "--send") == 0 && S->n_send < MAX_SEND) {
    S->send_path[S->n_send++] = v;
    return 0;
  }
  if (strcmp(a, "--out") == 0) {
    *out_path = v;
    return 0;
  }
  if (strcmp(a, "--max-retargets") == 0 && parse_num(v, 100, &n) == 0) {
    S->cfg.max_retargets = (unsigned)n;
    return 0;
  }
  if (strcmp(a, "--expect") == 0 && parse_num(v, 1000000, &n) == 0) {
    S->expect = n;
    return 0;
  }
  if (strcmp(a, "--timeout") == 0 && parse_num(v, 3600000, &n) == 0 && n > 0) {
    S->timeout_ms = (uint32_t)n;
    S->cfg.connect_timeout_ms = (uint32_t)n;
    return 0;
  }
  return -1;
}

static int load_files(sess_t *S) {
  size_t max = S->cfg.mode == NB_SSN_MODE_DIRECT
                   ? NB_SSNCLIENT_MAX_MESSAGE_DIRECT
                   : NB_SSNCLIENT_MAX_MESSAGE_RFC;
  for (size_t i = 0; i < S->n_send; i++) {
    S->send_data[i] = nbt_read_file(S->send_path[i], max + 1, &S->send_len[i]);
    if (S->send_data[i] == NULL) {
      fprintf(stderr, "nbt: session: %s: %s\n", S->send_path[i],
              strerror(errno));
      return -1;
    }
    if (S->send_len[i] > max) {
      fprintf(stderr, "nbt: session: %s: over MAX_MESSAGE_LENGTH (%zu bytes)\n",
              S->send_path[i], max);
      return -1;
    }
  }
  return 0;
}

/* ---- the connection ----------------------------------------------------
 */

static void close_fd(sess_t *S) {
  if (S->fd >= 0) {
    close(S->fd);
    S->fd = -1;
  }
}

static void do_connect(sess_t *S, const nb_ssnclient_event_t *ev) {
  struct sockaddr_in sa;
  char a[16];
  close_fd(S);
  if (!S->quiet) {
    printf("%s %s:%u\n", ev->hop == 0 ? "connect" : "retarget",
           ipv4_str(ev->addr, a), ev->port);
  }
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(ev->port);
  sa.sin_addr.s_addr = htonl(ev->addr);
  S->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (S->fd < 0 || (connect(S->fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
                    errno != EINPROGRESS)) {
    nb_ssnclient_connected(&S->c, false, now_ms());
    return;
  }
  S->want_out = true; /* POLLOUT says the connect finished */
}

/* Queue as much of the --send messages as the buffer takes. */
static void feed_sends(sess_t *S) {
  while (S->cur < S->n_send && nb_ssnclient_is_open(&S->c)) {
    if (!S->cur_begun) {
      if (nb_ssnclient_msg_begin(&S->c, (uint32_t)S->send_len[S->cur]) !=
          NB_OK) {
        return; /* no room for the header yet */
      }
      S->cur_begun = true;
    }
    S->cur_off +=
        nb_ssnclient_msg_write(&S->c, S->send_data[S->cur] + S->cur_off,
                               S->send_len[S->cur] - S->cur_off);
    if (S->cur_off < S->send_len[S->cur]) {
      return; /* backpressure */
    }
    if (!S->quiet) {
      printf("sent message %zu bytes\n", S->send_len[S->cur]);
    }
    S->cur++;
    S->cur_off = 0;
    S->cur_begun = false;
  }
  if (S->cur == S->n_send && S->got >= S->expect) {
    nb_ssnclient_end(&S->c, now_ms());
  }
}

static void on_closed(sess_t *S, const nb_ssnclient_event_t *ev) {
  S->done = true;
  if (ev->why == NB_SSNCLIENT_WHY_NEGATIVE) {
    printf("negative session response 0x%02x: %s\n", ev->code,
           nb_ssn_neg_text(ev->code));
    S->rc = NBT_EXIT_FAIL;
  } else if (ev->why == NB_SSNCLIENT_WHY_NORMAL ||
             (ev->why == NB_SSNCLIENT_WHY_EOF && S->cur == S->n_send &&
              S->got >= S->expect)) {
    if (!S->quiet) {
      printf("closed\n");
    }
    S->rc = NBT_EXIT_OK;
  } else {
    printf("failed: %s%s%s\n", nb_ssnclient_why_str(ev->why),
           ev->diag.field != NULL ? ": " : "",
           ev->diag.field != NULL ? ev->diag.field : "");
    S->rc = ev->why == NB_SSNCLIENT_WHY_RETARGETS ||
                    ev->why == NB_SSNCLIENT_WHY_PROTOCOL
                ? NBT_EXIT_FAIL
                : NBT_EXIT_ERROR;
  }
}

static void handle_events(sess_t *S) {
  nb_ssnclient_event_t ev;
  while (nb_ssnclient_next_event(&S->c, &ev)) {
    switch (ev.kind) {
    case NB_SSNCLIENT_EV_CONNECT:
      do_connect(S, &ev);
      break;
    case NB_SSNCLIENT_EV_OPEN:
      if (!S->quiet) {
        printf("%s\n", S->cfg.mode == NB_SSN_MODE_DIRECT
                           ? "connected (direct)"
                           : "positive session response");
      }
      feed_sends(S);
      break;
    case NB_SSNCLIENT_EV_SHUTDOWN:
      S->ended = true;
      (void)shutdown(S->fd, SHUT_WR);
      break;
    case NB_SSNCLIENT_EV_CLOSED:
      on_closed(S, &ev);
      break;
    default:
      break;
    }
  }
}

static void on_message_event(sess_t *S, const nb_ssnclient_event_t *ev) {
  if (ev->kind == NB_SSNCLIENT_EV_MSG_DATA && S->out != NULL) {
    fwrite(ev->data, 1, ev->length, S->out);
  } else if (ev->kind == NB_SSNCLIENT_EV_MSG_BEGIN && !S->quiet) {
    printf("received message %u bytes\n", ev->length);
  } else if (ev->kind == NB_SSNCLIENT_EV_MSG_END) {
    S->got++;
    feed_sends(S);
  }
}

static int do_read(sess_t *S) {
  ssize_t n = read(S->fd, S->rbuf, sizeof S->rbuf);
  uint64_t now = now_ms();
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      return 0;
    }
    nb_ssnclient_reset(&S->c, now);
    return -1;
  }
  if (n == 0) {
    nb_ssnclient_eof(&S->c, now);
    return -1;
  }
  size_t pos = 0;
  /* Until NONE, even with no input left: a MSG_END may be due. */
  while (!nb_ssnclient_is_closed(&S->c)) {
    size_t used = 0;
    nb_ssnclient_event_t ev;
    nb_ssnclient_recv(&S->c, S->rbuf + pos, (size_t)n - pos, &used, &ev, now);
    pos += used;
    handle_events(S); /* a retarget may replace S->fd */
    if (ev.kind == NB_SSNCLIENT_EV_NONE) {
      break;
    }
    on_message_event(S, &ev);
  }
  return 0;
}

static void do_write(sess_t *S) {
  const uint8_t *p = NULL;
  size_t n;
  S->want_out = false;
  while ((n = nb_ssnclient_pending(&S->c, &p)) > 0) {
    ssize_t w = send(S->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) {
        S->want_out = true;
      } else {
        nb_ssnclient_reset(&S->c, now_ms());
      }
      return;
    }
    nb_ssnclient_advance(&S->c, (size_t)w, now_ms());
    feed_sends(S);
  }
}

static void on_writable(sess_t *S) {
  if (nb_ssnclient_is_connecting(&S->c)) {
    int err = 0;
    socklen_t len = sizeof err;
    (void)getsockopt(S->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    S->want_out = false;
    nb_ssnclient_connected(&S->c, err == 0, now_ms());
    handle_events(S);
  }
  do_write(S);
}

static int poll_timeout(const sess_t *S, uint64_t end) {
  uint64_t now = now_ms();
  uint64_t dl = nb_ssnclient_next_deadline(&S->c);
  dl = dl < end ? dl : end;
  return dl <= now ? 0 : (int)(dl - now < 60000 ? dl - now : 60000);
}

static void run(sess_t *S) {
  uint64_t end = now_ms() + S->timeout_ms;
  while (!S->done) {
    struct pollfd pfd = {S->fd, 0, 0};
    pfd.events = (short)((S->want_out ? POLLOUT : 0) |
                         (nb_ssnclient_want_read(&S->c) ? POLLIN : 0));
    int r = poll(&pfd, S->fd >= 0 ? 1 : 0, poll_timeout(S, end));
    uint64_t now = now_ms();
    if (r > 0 && (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) != 0 &&
        S->want_out) {
      on_writable(S);
    }
    if (r > 0 && !S->done &&
        (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      (void)do_read(S);
    }
    nb_ssnclient_on_timer(&S->c, now);
    handle_events(S);
    const uint8_t *p = NULL;
    if (!S->done && S->fd >= 0 && !S->want_out &&
        nb_ssnclient_pending(&S->c, &p) > 0) {
      do_write(S);
      handle_events(S);
    }
    if (!S->done && now >= end) {
      S->done = true;
      if (S->ended) {
        printf("closed (no FIN from the peer)\n");
        S->rc = NBT_EXIT_OK;
      } else {
        printf("failed: timed out after %u ms\n", S->timeout_ms);
        S->rc = NBT_EXIT_ERROR;
      }
    }
  }
}

int nbt_cmd_session(int argc, char **argv) {
  static sess_t S;
  const char *target = NULL;
  const char *out_path = NULL;
  memset(&S, 0, sizeof S);
  S.fd = -1;
  S.expect = -1;
  S.timeout_ms = 10000;
  S.port = 0;
  nb_ssnclient_config_init(&S.cfg);
  (void)nb_name_from_text(&S.cfg.calling, "NBT<00>", 7, NULL);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      session_usage(stdout);
      return NBT_EXIT_OK;
    }
    if (parse_opt(&S, argc, argv, &i, &target, &out_path) != 0) {
      session_usage(stderr);
      return NBT_EXIT_USAGE;
    }
  }
  bool named = S.cfg.called.bytes[0] != 0;
  int t = target != NULL ? parse_target(&S, target) : -1;
  if (t == -1 || (S.cfg.mode == NB_SSN_MODE_RFC && !named)) {
    session_usage(stderr);
    return NBT_EXIT_USAGE;
  }
  if (t != 0 || load_files(&S) != 0) {
    return NBT_EXIT_ERROR;
  }
  if (S.port == 0) {
    S.port = S.cfg.mode == NB_SSN_MODE_DIRECT ? 445 : 139;
  }
  if (S.expect < 0) {
    S.expect = (long)S.n_send;
  }
  S.obuf = malloc(OUT_CAP);
  S.out = out_path != NULL ? fopen(out_path, "wb") : NULL;
  if (S.obuf == NULL || (out_path != NULL && S.out == NULL)) {
    fprintf(stderr, "nbt: session: %s\n", strerror(errno));
    return NBT_EXIT_ERROR;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  (void)nb_ssnclient_init(&S.c, &S.cfg, S.addr, S.port, S.obuf, OUT_CAP,
                          now_ms());
  handle_events(&S);
  run(&S);
  close_fd(&S);
  if (S.out != NULL) {
    fclose(S.out);
  }
  for (size_t i = 0; i < S.n_send; i++) {
    free(S.send_data[i]);
  }
  free(S.obuf);
  return S.rc;
}
