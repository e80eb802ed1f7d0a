/*
 * decimal.h: unsigned decimal numbers as text (D+ or D+.D+), compared
 * exactly, digit by digit, never through a double.
 */
#ifndef HERD_DECIMAL_H
#define HERD_DECIMAL_H

#include <stddef.h>

int	decimal_valid(const char *, size_t, int);
int	decimal_cmp(const char *, size_t, const char *, size_t);
int	decimal_cmp_uint(const char *, size_t, unsigned long);
int	decimal_is_zero(const char *, size_t);

#endif
