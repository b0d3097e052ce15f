/* tests/common/test_http.h — a tiny HTTP/1.1 server on 127.0.0.1 (a thread in the test process) serving one body
 * (header-only, static): 200 with the body, 206 for a Range request (416 past the end), a 302 from /redirect, a fixed
 * error status, dropped transfers and ignored Ranges on request. Used by tests/core/test_fetch.c (hl_fetch) and
 * tests/lab/test_run_fetch.c (`hashlab run --fetch`), so downloads are tested without the internet.
 *
 *     server s;  server_start(&s, body, len);   // s.port; URL http://127.0.0.1:<port>/anything
 *     ...                                         // s.requests counts the requests served, s.range[i] their Range
 *     server_stop(&s);
 */
#ifndef HL_TEST_HTTP_H
#define HL_TEST_HTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_common.h"

typedef struct server {
    int fd, port;
    pthread_t th;
    atomic_int stop, requests;
    int64_t range[16]; /* Range start of request i, -1 without one */
    const unsigned char *body;
    size_t len;
    int status;     /* 0: serve the body; else answer this status */
    int drop_first; /* the first drop_first responses stop after drop_after body bytes and close */
    size_t drop_after;
    int ignore_range; /* answer 200 with the whole body to a Range request */
} server;

static inline void hl_test_http_send_all(int c, const void *p, size_t n) {
    for (size_t w = 0; w < n;) {
        ssize_t k = send(c, (const char *)p + w, n - w, MSG_NOSIGNAL);
        if (k <= 0) return;
        w += (size_t)k;
    }
}

static inline void hl_test_http_serve_one(server *s, int c) {
    char req[8192] = "";
    size_t n = 0;
    while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t k = recv(c, req + n, sizeof req - 1 - n, 0);
        if (k <= 0) return;
        n += (size_t)k;
        req[n] = 0;
    }
    for (size_t i = 0; i < n; i++) req[i] = (char)(req[i] >= 'A' && req[i] <= 'Z' ? req[i] - 'A' + 'a' : req[i]);
    int idx = atomic_load(&s->requests);
    const char *r = strstr(req, "\r\nrange: bytes=");
    int64_t start = r ? strtoll(r + 15, NULL, 10) : -1;
    if (idx < 16) s->range[idx] = start;
    atomic_fetch_add(&s->requests, 1);
    char h[512];
    if (strncmp(req, "get /redirect ", 14) == 0) {
        snprintf(h, sizeof h,
                 "HTTP/1.1 302 Found\r\nLocation: /data.tar.gz\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        hl_test_http_send_all(c, h, strlen(h));
        return;
    }
    if (s->status) {
        snprintf(h, sizeof h, "HTTP/1.1 %d Nope\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope", s->status);
        hl_test_http_send_all(c, h, strlen(h));
        return;
    }
    size_t from = 0;
    if (start >= 0 && !s->ignore_range) {
        if ((size_t)start >= s->len) {
            snprintf(h, sizeof h,
                     "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%zu\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n",
                     s->len);
            hl_test_http_send_all(c, h, strlen(h));
            return;
        }
        from = (size_t)start;
        snprintf(h, sizeof h,
                 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %zu-%zu/%zu\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 from, s->len - 1, s->len, s->len - from);
    } else {
        snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", s->len);
    }
    hl_test_http_send_all(c, h, strlen(h));
    size_t n_body = s->len - from;
    if (idx < s->drop_first && s->drop_after < n_body) n_body = s->drop_after;
    hl_test_http_send_all(c, s->body + from, n_body);
}

static inline void *hl_test_http_main(void *arg) {
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        struct timeval tv = {2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        hl_test_http_serve_one(s, c);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static inline void server_start(server *s, const unsigned char *body, size_t len) {
    memset(s, 0, sizeof *s);
    s->body = body;
    s->len = len;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(s->fd, 8), 0);
    cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->th, NULL, hl_test_http_main, s), 0);
}

static inline void server_stop(server *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
}

#endif
