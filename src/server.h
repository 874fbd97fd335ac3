/* The HTTP server: N worker threads, each with its own h2o event loop, SO_REUSEPORT
 * listener and SQLite connection; the request pipeline lives in api.c. */
#ifndef GRANTD_SERVER_H
#define GRANTD_SERVER_H

#include <stddef.h>

struct server_opts {
    const char *db_path;
    const char *listen; /* HOST:PORT */
    int threads;
    int rate_limits; /* 1 on, 0 off */
    size_t max_body;
    size_t max_url;
    const char *tls_cert, *tls_key;
    const char *trusted_proxy;
};

int server_run(const struct server_opts *o);

#endif
