/* SPDX-License-Identifier: BSD-2-Clause */
/* The fragmenting writer (RFC 1001 17.1.2, RFC 1002 5.3.1): a whole
 * datagram in, one model per UDP packet out. Pure: no I/O, no heap. */
#include "nb/dgm.h"

nb_err_t nb_dgm_split_init(nb_dgm_split_t *s, const nb_dgm_msg_t *dgram,
                           size_t max_payload) {
  if (!nb_dgm_is_whole(dgram) || (dgram->data == NULL && dgram->data_len)) {
    return NB_EINVAL;
  }
  if (dgram->data_len > NB_DGM_USER_DATA_MAX) {
    return NB_ELIMIT; /* RFC 1001 17.1.2 */
  }
  s->names_len = nb_dgm_names_len(dgram);
  /* RFC 1002 5.3.1: "Put names into 1st UDP packet". */
  if (max_payload < NB_DGM_HEADER_LEN + s->names_len) {
    return NB_ELIMIT;
  }
  s->dgram = dgram;
  s->max_payload = max_payload;
  s->sent = 0;
  s->done = false;
  return NB_OK;
}

bool nb_dgm_split_next(nb_dgm_split_t *s, nb_dgm_msg_t *frag) {
  if (s->done) {
    return false;
  }
  const nb_dgm_msg_t *d = s->dgram;
  size_t total = s->names_len + d->data_len; /* == DGM_LENGTH */
  size_t room = s->max_payload - NB_DGM_HEADER_LEN;
  size_t chunk;
  *frag = *d;
  frag->n_findings = 0;
  frag->findings_overflow = false;
  frag->flags = (uint8_t)(d->flags & ~(NB_DGM_FLAG_F | NB_DGM_FLAG_M));
  if (s->sent == 0) {
    /* First fragment: the names and the data that fits after them. */
    chunk = room - s->names_len;
    chunk = chunk < d->data_len ? chunk : d->data_len;
    frag->flags |= NB_DGM_FLAG_F;
    frag->packet_offset = 0;
    frag->data_len = chunk;
    s->sent = s->names_len + chunk;
  } else {
    /* PACKET_OFFSET: data-section bytes of all earlier fragments. */
    chunk = total - s->sent < room ? total - s->sent : room;
    frag->packet_offset = (uint16_t)s->sent;
    frag->data = d->data + (s->sent - s->names_len);
    frag->data_len = chunk;
    s->sent += chunk;
  }
  if (s->sent < total) {
    frag->flags |= NB_DGM_FLAG_M;
  } else {
    s->done = true;
  }
  return true;
}
