/* The HTTP server: N worker threads, each with its own h2o event loop, SO_REUSEPORT
 * listener and store connection; the request pipeline lives in api.c. */
#ifndef GRANTD_SERVER_H
#define GRANTD_SERVER_H

#include <stddef.h>

struct store;

struct server_opts {
    const char *db_path; /* the database's URL: a SQLite path, or sqlite:PATH */
    struct store *store; /* opened by server_run from db_path */
    const char *listen;  /* HOST:PORT */
    int threads;
    int rate_limits; /* 1 on, 0 off */
    size_t max_body;
    size_t max_url;
    const char *tls_cert, *tls_key;
    const char *trusted_proxy;
    /* Called once on server_run's thread when every worker serves, with the port bound
     * (the one the kernel chose for port 0); NULL for none. For embedding the server in
     * a test or fuzz target: `serve` prints the port on stderr instead. */
    void (*on_listening)(void *arg, int port);
    void *on_listening_arg;
};

int server_run(const struct server_opts *o);

#endif
