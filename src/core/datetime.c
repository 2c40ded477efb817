/* datetime.c - strict parsing and formatting of dates, months, timestamps.
 *
 * Day numbers use Howard Hinnant's civil-from-days algorithm: branch-light,
 * exact over the whole proleptic Gregorian calendar, no libc time zones.
 */
#include "cvm/datetime.h"

int32_t cvm_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void cvm_date_to_ymd(int32_t days, int *y, int *m, int *d)
{
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Parses exactly n digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9) {
            return -1;
        }
        v = v * 10 + (int)c;
    }
    return v;
}

int cvm_date_parse(const char *s, size_t len, int32_t *out)
{
    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return -1;
    }
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in(y, m)) {
        return -1;
    }
    *out = cvm_date_from_ymd(y, m, d);
    return 0;
}

/* Writes v as exactly n decimal digits (formatting is on hot output paths:
 * the synthesizer writes millions of dates, so no snprintf). */
static void put_digits(char *p, int v, int n)
{
    if (v < 0) {
        v = -v;
    }
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void cvm_date_format(int32_t days, char *buf)
{
    int y, m, d;
    cvm_date_to_ymd(days, &y, &m, &d);
    put_digits(buf, y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = '\0';
}

int cvm_month_parse(const char *s, size_t len, int32_t *out)
{
    if (len != 7 || s[4] != '-') {
        return -1;
    }
    int y = digits(s, 4), m = digits(s + 5, 2);
    if (y < 0 || m < 1 || m > 12) {
        return -1;
    }
    *out = y * 12 + m - 1;
    return 0;
}

void cvm_month_format(int32_t month, char *buf)
{
    put_digits(buf, (int)(month / 12), 4);
    buf[4] = '-';
    put_digits(buf + 5, (int)(month % 12) + 1, 2);
    buf[7] = '\0';
}

int32_t cvm_month_of_date(int32_t days)
{
    int y, m, d;
    cvm_date_to_ymd(days, &y, &m, &d);
    return y * 12 + m - 1;
}

int32_t cvm_month_first_day(int32_t month)
{
    return cvm_date_from_ymd(month / 12, month % 12 + 1, 1);
}

int cvm_month_days(int32_t month)
{
    return days_in(month / 12, month % 12 + 1);
}

int cvm_timestamp_parse(const char *s, size_t len, int64_t *out)
{
    int32_t day;
    if ((len != 16 && len != 19) || cvm_date_parse(s, 10, &day) != 0 ||
        (s[10] != ' ' && s[10] != 'T') || s[13] != ':')
    {
        return -1;
    }
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = 0;
    if (len == 19) {
        if (s[16] != ':') {
            return -1;
        }
        ss = digits(s + 17, 2);
    }
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) {
        return -1;
    }
    *out = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

void cvm_timestamp_format(int64_t ts, char *buf)
{
    int64_t day = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
    int64_t sec = ts - day * 86400;
    cvm_date_format((int32_t)day, buf);
    buf[10] = ' ';
    put_digits(buf + 11, (int)(sec / 3600), 2);
    buf[13] = ':';
    put_digits(buf + 14, (int)(sec / 60 % 60), 2);
    buf[16] = ':';
    put_digits(buf + 17, (int)(sec % 60), 2);
    buf[19] = '\0';
}
