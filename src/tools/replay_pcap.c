/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading a capture for `nbt replay` through libpcap (pcap and pcapng).
 *
 * WARNING: parses untrusted network data. libpcap reads the file format;
 * every header inside a frame is parsed by nbt_rp_frame_parse() through the
 * nb_rd_t cursors. Frames that do not parse are counted and skipped. */
/* libpcap's headers use the BSD u_int/u_char types, which strict C11 hides. */
#define _DEFAULT_SOURCE 1

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"

#define NBT_RP_MAX_FRAMES 10000000UL /* a bound on the loop, not on memory */

static void count_skip(nbt_rp_plan_t *plan, nb_err_t e) {
  if (e == NB_ENOTFOUND) {
    plan->not_ip4++;
  } else if (e == NB_ELIMIT) {
    plan->frags++;
  } else {
    plan->bad_hdr++;
  }
}

int nbt_rp_pcap_read(const char *path, nbt_rp_plan_t *plan, nbt_rp_pkt_fn fn,
                     void *ctx, char *err, size_t errlen) {
  char perr[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pc = pcap_open_offline(path, perr);
  if (pc == NULL) {
    snprintf(err, errlen, "%s", perr);
    return -1;
  }
  int link = pcap_datalink(pc);
  struct pcap_pkthdr *h = NULL;
  const u_char *data = NULL;
  unsigned long frame = 0;
  int rc = 0;
  int got = 0;
  while (frame < NBT_RP_MAX_FRAMES &&
         (got = pcap_next_ex(pc, &h, &data)) == 1) {
    nbt_rp_pkt_t p;
    frame++;
    nb_err_t e = nbt_rp_frame_parse(link, data, h->caplen, &p, NULL);
    if (e != NB_OK) {
      count_skip(plan, e);
      continue;
    }
    double ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
    fn(ctx, frame, ts, &p);
  }
  if (got == PCAP_ERROR) {
    snprintf(err, errlen, "%s: %s", path, pcap_geterr(pc));
    rc = -1;
  }
  plan->frames = frame;
  pcap_close(pc);
  return rc;
}

int nbt_rp_plan_build(const char *path, const nbt_rp_select_t *sel,
                      nbt_rp_plan_t *plan, char *err, size_t errlen) {
  nbt_rp_builder_t *b = nbt_rp_builder_new(sel, plan);
  nbt_rp_plan_t scratch;
  int rc = -1;
  if (b == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memset(&scratch, 0, sizeof scratch);
  if (!plan->server_given &&
      nbt_rp_pcap_read(path, &scratch, nbt_rp_plan_detect, b, err, errlen) !=
          0) {
    (void)nbt_rp_builder_finish(b);
    return -1;
  }
  nbt_rp_builder_choose_server(b);
  rc = nbt_rp_pcap_read(path, plan, nbt_rp_plan_packet, b, err, errlen);
  if (nbt_rp_builder_finish(b) != 0 && rc == 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (rc != 0) {
    nbt_rp_plan_free(plan);
  }
  return rc;
}
