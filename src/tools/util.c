/* SPDX-License-Identifier: BSD-2-Clause */
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool nbt_unhex(const char *hex, uint8_t *out, size_t cap, size_t *out_len,
               size_t *bad_at) {
  size_t n = 0;
  int hi = -1;
  size_t hi_at = 0;
  for (size_t i = 0; hex[i] != '\0'; i++) {
    char c = hex[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
      if (hi >= 0) {
        *bad_at = i; /* a separator inside a byte */
        return false;
      }
      continue;
    }
    int v = hexval(c);
    if (v < 0 || (hi >= 0 && n >= cap)) {
      *bad_at = i;
      return false;
    }
    if (hi < 0) {
      hi = v;
      hi_at = i;
    } else {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  if (hi >= 0) {
    *bad_at = hi_at; /* odd number of digits */
    return false;
  }
  *out_len = n;
  return true;
}

void nbt_print_hex(FILE *f, const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    fprintf(f, "%02x", p[i]);
  }
}

void nbt_json_str(FILE *f, const char *s, size_t len) {
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c < 0x20 || c >= 0x7f) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

bool nbt_parse_uint(const char *s, unsigned long max, unsigned long *out) {
  char *end = NULL;
  if (s == NULL || s[0] < '0' || s[0] > '9') {
    return false;
  }
  unsigned long v = strtoul(s, &end, 0);
  if (*end != '\0' || v > max) {
    return false;
  }
  *out = v;
  return true;
}

bool nbt_parse_dotted(const char *s, size_t len, uint32_t *out) {
  uint32_t a = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    unsigned v = 0;
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
      v = v * 10 + (unsigned)(s[i++] - '0');
      digits++;
    }
    if (digits == 0 || v > 255 || (part < 3 && (i >= len || s[i++] != '.'))) {
      return false;
    }
    a = a << 8 | v;
  }
  *out = a;
  return i == len;
}

uint8_t *nbt_read_file(const char *path, size_t max, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  uint8_t *buf = malloc(max + 1);
  size_t n = 0;
  if (buf != NULL) {
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
      free(buf);
      buf = NULL;
      errno = ferror(f) ? EIO : EFBIG;
    }
  }
  if (f != stdin) {
    fclose(f);
  }
  *len = n;
  return buf;
}
