/* core/hash.c — see hash.h. */
#include "core/hash.h"

#include <openssl/evp.h>

void hl_sha256_hex(const void *data, size_t n, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HL_ASSERT(EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) == 1 && len == 32, "SHA-256 failed");
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}
