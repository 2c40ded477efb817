/* cvm.h - umbrella header: includes every public header of libcvm. */
#ifndef CVM_CVM_H
#define CVM_CVM_H

#include "cvm/version.h"
#include "cvm/status.h"
#include "cvm/alloc.h"
#include "cvm/datetime.h"
#include "cvm/table.h"
#include "cvm/csv.h"
#include "cvm/schema.h"
#include "cvm/store.h"
#include "cvm/load.h"
#include "cvm/audit.h"
#include "cvm/features.h"
#include "cvm/factors.h"
#include "cvm/rank.h"
#include "cvm/synth.h"
#include "cvm/model.h"
#include "cvm/metrics.h"
#include "cvm/churn.h"
#include "cvm/survival.h"
#include "cvm/planfit.h"
#include "cvm/segments.h"
#include "cvm/kmeans.h"
#include "cvm/value.h"
#include "cvm/retention.h"
#include "cvm/config.h"
#include "cvm/report.h"
#include "cvm/run.h"

#endif
