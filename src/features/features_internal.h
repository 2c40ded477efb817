/* features_internal.h - column indices of the wide table's features. */
#ifndef CVM_FEATURES_INTERNAL_H
#define CVM_FEATURES_INTERNAL_H

#include "cvm/features.h"
#include "features/dictionary.h"

#define X(name, fam, unit, zh, f) F_##name,
#define XC(name, fam, zh, f) F_##name,

enum { CVM_FEATURES(X, XC) F__COUNT };

#undef X
#undef XC

#endif
