/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NB_NB_H
#define NB_NB_H

/* nbtkit's umbrella header. */
#include "nb/dgm.h"
#include "nb/dgmsvc.h"
#include "nb/err.h"
#include "nb/name.h"
#include "nb/nbns.h"
#include "nb/ns.h"
#include "nb/nsnode.h"
#include "nb/smb_browse.h"
#include "nb/ssn.h"
#include "nb/ssnclient.h"
#include "nb/ssnsrv.h"
#include "nb/wire.h"

#define NB_VERSION_STRING "0.1.0"

#endif
