/* core/hash.c — see hash.h. */
#include "core/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static void to_hex(const unsigned char *md, char out[65]) {
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

void hl_sha256_hex(const void *data, size_t n, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HL_ASSERT(EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) == 1 && len == 32, "SHA-256 failed");
    to_hex(md, out);
}

hl_status hl_sha256_file(const char *path, char out[65]) {
    enum { BLOCK = 1 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(HL_EIO, "cannot open '%s': %s", path, strerror(errno));
    unsigned char *buf = malloc(BLOCK), md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    hl_status st = HL_OK;
    unsigned int len = 0;
    if (!buf || !c) {
        st = hl_error_set(HL_ENOMEM, "out of memory hashing '%s'", path);
        goto done;
    }
    HL_ASSERT(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1, "SHA-256 failed");
    size_t n;
    while ((n = fread(buf, 1, BLOCK, f)) > 0) HL_ASSERT(EVP_DigestUpdate(c, buf, n) == 1, "SHA-256 failed");
    if (ferror(f)) {
        st = hl_error_set(HL_EIO, "cannot read '%s': %s", path, strerror(errno));
        goto done;
    }
    HL_ASSERT(EVP_DigestFinal_ex(c, md, &len) == 1 && len == 32, "SHA-256 failed");
    to_hex(md, out);
done:
    EVP_MD_CTX_free(c);
    free(buf);
    fclose(f);
    return st;
}
