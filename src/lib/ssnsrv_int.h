/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_SSNSRV_INT_H
#define NB_SSNSRV_INT_H

/* Private to ssnsrv.c (states, events, timers) and ssnsrv_pump.c (buffers,
 * framing, the pump). */
#include "nb/ssnsrv.h"

enum {
  NB_SSNSRV_ST_WAIT_REQUEST = 0,
  NB_SSNSRV_ST_CONNECTING,
  NB_SSNSRV_ST_NBT_RESPONSE,
  NB_SSNSRV_ST_ESTABLISHED,
  NB_SSNSRV_ST_CLOSING,
  NB_SSNSRV_ST_CLOSED
};

static inline nb_ssnsrv_side_t nb_ssnsrv__other(nb_ssnsrv_side_t side) {
  return side == NB_SSNSRV_CLIENT ? NB_SSNSRV_BACKEND : NB_SSNSRV_CLIENT;
}

/* ssnsrv.c */
void nb_ssnsrv__emit(nb_ssnsrv_t *s, const nb_ssnsrv_event_t *ev);
void nb_ssnsrv__close(nb_ssnsrv_t *s, nb_ssnsrv_end_t end, bool reset);
/* A control frame from the client before the session exists, or from an
 * nbt backend before its answer: false when framing must stop. */
bool nb_ssnsrv__setup_frame(nb_ssnsrv_t *s, nb_ssnsrv_side_t to,
                            const nb_ssn_event_t *ev, uint64_t now);
/* Both directions were shut down: CLOSE. */
void nb_ssnsrv__check_done(nb_ssnsrv_t *s);

/* ssnsrv_pump.c */
/* Frame what `to` holds unframed, as far as the state allows. */
void nb_ssnsrv__process(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, uint64_t now);
/* Drop every byte `to` holds (data and control). */
void nb_ssnsrv__drop(nb_ssnsrv_t *s, nb_ssnsrv_side_t to);
/* Queue a control packet for `to` (the direction's control slot must be
 * empty; it holds NB_SSN_CONTROL_MAX bytes). */
bool nb_ssnsrv__ctl(nb_ssnsrv_t *s, nb_ssnsrv_side_t to, const uint8_t *p,
                    size_t len);
/* Emit SHUTDOWN for a direction whose source ended and whose bytes are
 * all written. */
void nb_ssnsrv__check_shut(nb_ssnsrv_t *s, nb_ssnsrv_side_t to);
/* Recompute a direction's read stop from its watermarks. */
void nb_ssnsrv__flow(nb_ssnsrv_t *s, nb_ssnsrv_side_t to);

#endif
