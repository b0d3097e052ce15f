/* core/hash.h — content hashes (SHA-256 via OpenSSL's libcrypto) for cache keys and manifests. */
#ifndef HL_HASH_H
#define HL_HASH_H

#include "core/common.h"

/* Lower-case hex SHA-256 of n bytes into out[65] (NUL-terminated). */
void hl_sha256_hex(const void *data, size_t n, char out[65]);
/* Lower-case hex SHA-256 of a file's content, read in blocks (any size). HL_EIO naming the path and the reason when it
 * cannot be opened or read. */
hl_status hl_sha256_file(const char *path, char out[65]);

#endif
