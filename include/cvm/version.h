/* version.h - libcvm version. */
#ifndef CVM_VERSION_H
#define CVM_VERSION_H

#define CVM_VERSION_MAJOR 0
#define CVM_VERSION_MINOR 1
#define CVM_VERSION_PATCH 0

/** Version of the on-disk store schema; bumped on incompatible changes. */
#define CVM_SCHEMA_VERSION 1

/** @brief "0.1.0". */
const char *cvm_version(void);

#endif
