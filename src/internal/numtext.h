/* Numbers as text, the same way everywhere libtl reads or writes one (defined in
 * src/data/textutil.c): data files, model metadata, method parameters. Strict syntax and the "C"
 * locale whatever the process's, so a value written under one locale reads back under another. */
#ifndef TL_INTERNAL_NUMTEXT_H
#define TL_INTERNAL_NUMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Strict decimal number syntax: [+-]digits[.digits][(e|E)[+-]digits] with at least one digit in
 * the mantissa (so no hex, no "inf"/"nan", no trailing garbage). */
bool tl_text_is_number(const char *s, size_t n);
/* Parse s[0..n) that passed tl_text_is_number; locale-independent ('.' is the decimal point
 * whatever the process locale). Returns false when the value overflows to +-Inf. */
bool tl_text_to_double(const char *s, size_t n, double *out);
/* Shortest of %.15g / %.16g / %.17g that reads back to exactly v, '.' as decimal point whatever
 * the locale. Returns the length written (buf holds at least 32 bytes). */
int tl_text_format_double(double v, char *buf, size_t cap);

#endif
