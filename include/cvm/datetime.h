/* datetime.h - the calendar types of cvm: dates, months, timestamps.
 *
 * A date is days since 1970-01-01 (int32), a month is year*12 + (month-1)
 * (int32, so consecutive months differ by 1), a timestamp is seconds since
 * 1970-01-01 00:00:00 (int64, no time zone: operator data is local time).
 * Parsers are strict (exact widths, real calendar dates) and take a length,
 * so they work on unterminated CSV fields.
 */
#ifndef CVM_DATETIME_H
#define CVM_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief "YYYY-MM-DD" -> days since epoch. 0 on success, -1 if malformed. */
int cvm_date_parse(const char *s, size_t len, int32_t *out);
/** @brief Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void cvm_date_format(int32_t days, char *buf);
/** @brief Days since epoch of a calendar date (no range check). */
int32_t cvm_date_from_ymd(int y, int m, int d);
/** @brief Splits days since epoch into year, month (1-12), day (1-31). */
void cvm_date_to_ymd(int32_t days, int *y, int *m, int *d);

/** @brief "YYYY-MM" -> year*12+month-1. 0 on success, -1 if malformed. */
int cvm_month_parse(const char *s, size_t len, int32_t *out);
/** @brief Writes "YYYY-MM" and a NUL into buf (at least 8 bytes). */
void cvm_month_format(int32_t month, char *buf);
/** @brief The month a date falls in. */
int32_t cvm_month_of_date(int32_t days);
/** @brief First day of a month, as days since epoch. */
int32_t cvm_month_first_day(int32_t month);
/** @brief Number of days in a month. */
int cvm_month_days(int32_t month);

/**
 * @brief "YYYY-MM-DD HH:MM[:SS]" (or 'T' as separator) -> seconds since
 * epoch. 0 on success, -1 if malformed.
 */
int cvm_timestamp_parse(const char *s, size_t len, int64_t *out);
/** @brief Writes "YYYY-MM-DD HH:MM:SS" and a NUL (at least 20 bytes). */
void cvm_timestamp_format(int64_t ts, char *buf);

#ifdef __cplusplus
}
#endif
#endif
