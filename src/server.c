/* HTTP serving on h2o 2.2's own event loop: one loop, listener (SO_REUSEPORT) and
 * database connection per worker thread; handlers run synchronously on their loop.
 * Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish, exit 0. */
#include "server.h"
#include "api.h"
#include "auth.h"
#include "countcache.h"
#include "filtercache.h"
#include "settings.h"
#include "store.h"
#include "dynattr.h"
#include "durable.h"
#include "housekeep.h"
#include "slowlane.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define MAX_THREADS 64

static h2o_globalconf_t config;
static atomic_int stopping;
static struct sockaddr_storage bind_addr;
static socklen_t bind_len;
static SSL_CTX *ssl_ctx;

struct thread {
    pthread_t tid;
    int index;
    int fd;
    struct worker w;
    const struct server_opts *o;
    int ok;
    h2o_accept_ctx_t *accept;           /* this loop's, while it runs */
    h2o_multithread_receiver_t handoff; /* connections another loop accepted for this one */
    atomic_int ready;                   /* accept and handoff are set up */
    atomic_int conns;                   /* connections open on this loop, or on their way */
    h2o_socket_t *listener;             /* this loop's */
    h2o_timeout_entry_t accept_retry;   /* accepting paused: out of descriptors */
};

static struct thread *threads_all;
static int threads_n;

struct handler {
    h2o_handler_t super;
};

static __thread struct worker *tls_worker;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    return api_handle(tls_worker, req);
}

/* Connections go to the loop with the fewest. Each loop accepts on its own SO_REUSEPORT
 * listener, where the kernel picks by a hash of the client's address and port: 64
 * connections split 36/28 as often as not, and the loop with more answers each of its
 * connections later (p99 is that loop's). A loop that accepts a connection while another
 * has fewer hands it over (h2o_socket_export / import, before anything is read). */
struct handoff {
    h2o_multithread_message_t msg; /* first: the receiver gets &msg */
    h2o_socket_export_t info;
};

static void on_sock_close(void *data)
{
    atomic_fetch_sub((atomic_int *)data, 1);
}

static void adopt(struct thread *t, h2o_socket_t *sock)
{
    sock->on_close.cb = on_sock_close;
    sock->on_close.data = &t->conns;
    h2o_accept(t->accept, sock);
}

static void on_handoff(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    struct thread *t = H2O_STRUCT_FROM_MEMBER(struct thread, handoff, r);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct handoff *h = (struct handoff *)m;
        h2o_socket_t *sock = h2o_socket_import(t->accept->ctx->loop, &h->info);
        free(h);
        if (sock)
            adopt(t, sock);
        else
            atomic_fetch_sub(&t->conns, 1);
    }
}

static struct thread *least_busy(struct thread *self)
{
    struct thread *to = self;
    int least = atomic_load(&self->conns);
    for (int i = 0; i < threads_n; i++) {
        struct thread *t = &threads_all[i];
        int n = atomic_load(&t->conns);
        if (n < least && atomic_load(&t->ready)) {
            least = n;
            to = t;
        }
    }
    return to;
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_retry(h2o_timeout_entry_t *entry)
{
    struct thread *t = H2O_STRUCT_FROM_MEMBER(struct thread, accept_retry, entry);
    h2o_socket_read_start(t->listener, on_accept);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    struct thread *self = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock == NULL) {
        /* Out of descriptors (or kernel memory): the listener stays readable, and retrying
         * at once would spin the loop at full CPU until a connection closes. Pause
         * accepting for 100 ms instead; the loop keeps serving its open connections, and
         * new clients wait in the listen queue. */
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            h2o_socket_read_stop(listener);
            h2o_timeout_link(self->accept->ctx->loop, &self->accept->ctx->hundred_ms_timeout,
                             &self->accept_retry);
        }
        return;
    }
    struct thread *to = least_busy(self);
    struct handoff *h = NULL;
    if (to != self) {
        h = xcalloc(1, sizeof *h);
        if (h2o_socket_export(sock, &h->info) != 0) { /* keep it here after all */
            free(h);
            h = NULL;
            to = self;
        }
    }
    atomic_fetch_add(&to->conns, 1);
    if (h)
        h2o_multithread_send_message(&to->handoff, &h->msg);
    else
        adopt(self, sock);
}

static int open_listener(const struct sockaddr *sa, socklen_t len)
{
    int on = 1;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (bind(fd, sa, len) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *run_loop(void *arg)
{
    struct thread *t = arg;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx = {0};
    tls_worker = &t->w;
    h2o_context_init(&ctx, h2o_evloop_create(), &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    accept_ctx.ssl_ctx = ssl_ctx;
    if (durable_worker_init(&t->w, ctx.queue) != 0)
        fprintf(stderr, "grantd: worker %d: group commit unavailable\n", t->index);
    slowlane_worker_init(&t->w, ctx.queue); /* answers of reads that moved off this loop */
    t->accept = &accept_ctx;
    h2o_multithread_register_receiver(ctx.queue, &t->handoff, on_handoff);
    atomic_store(&t->ready, 1);
    h2o_socket_t *listener = h2o_evloop_socket_create(ctx.loop, t->fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = t;
    t->listener = listener;
    t->accept_retry.cb = on_accept_retry;
    h2o_socket_read_start(listener, on_accept);
    log_buffering(1);
    while (!atomic_load(&stopping)) {
        /* Writes waiting for the batch gate are woken by the worker that lets go of it; the
         * short timeout is only a backstop. */
        h2o_evloop_run(ctx.loop, durable_waiting(&t->w) ? 1 : 100);
        durable_turn_end(&t->w, api_handle_again); /* the turn's record writes commit */
        store_idle(t->w.db);                       /* no transaction outlives its turn */
        log_flush();                               /* one write per loop turn for the access log */
    }
    /* Stop accepting, then give requests in flight a moment to complete. Handlers are
     * synchronous, so a request that has been read is answered within one loop turn. */
    atomic_store(&t->ready, 0); /* no more connections handed to this loop */
    if (h2o_timeout_is_linked(&t->accept_retry))
        h2o_timeout_unlink(&t->accept_retry);
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    int64_t until = now_usec() + 300000, limit = now_usec() + 5000000;
    for (int64_t now = now_usec();
         now < until ||
         ((durable_inflight(&t->w) > 0 || slowlane_inflight(&t->w) > 0) && now < limit);
         now = now_usec()) {
        h2o_evloop_run(ctx.loop, durable_waiting(&t->w) ? 1 : 20);
        durable_turn_end(&t->w, api_handle_again); /* and wait for every answer to return */
        store_idle(t->w.db);
    }
    log_buffering(0);
    slowlane_worker_release(&t->w);
    durable_worker_release(&t->w);
    dyn_release_thread();
    countcache_release_thread();
    filtercache_release_thread();
    /* No h2o_context_dispose: it asserts while kept-alive connections still hold timers,
     * and the process exits right after; tests/lsan.supp names what h2o keeps. */
    return NULL;
}

static int parse_listen(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host) {
        snprintf(err, errlen, "--listen wants HOST:PORT");
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    char *h = host;
    if (h[0] == '[') { /* [::1]:8080 */
        h++;
        h[strcspn(h, "]")] = 0;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res) != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s", spec);
        return -1;
    }
    memcpy(&bind_addr, res->ai_addr, res->ai_addrlen);
    bind_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, 1);
}

static int setup_tls(const struct server_opts *o, char *err, size_t errlen)
{
    if (!o->tls_cert)
        return 0;
    ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!ssl_ctx)
        return -1;
    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, o->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx, o->tls_key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "cannot load TLS certificate or key");
        return -1;
    }
    h2o_ssl_register_alpn_protocols(ssl_ctx, h2o_http2_alpn_protocols);
    return 0;
}

/* Every connection holds a descriptor, and the usual soft RLIMIT_NOFILE is 1024 (systemd's
 * default, most shells): past it accept() fails with EMFILE and new clients wait in the
 * listen queue until idle ones time out, so 1,000 idle connections would shut everyone else
 * out. Raise the soft limit to the hard one (systemd: 524288), as nginx's
 * worker_rlimit_nofile would; the loops use epoll, so descriptors above 1024 are fine. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "grantd: cannot raise the open files limit above %llu: %s\n",
                (unsigned long long)was, strerror(errno));
}

int server_run(const struct server_opts *o)
{
    char err[256], host[INET6_ADDRSTRLEN];
    struct thread *threads = xcalloc((size_t)o->threads, sizeof *threads);
    int rc = -1, started = 0;
    static struct server_opts run_opts; /* o with the store every worker connects to */
    run_opts = *o;
    o = &run_opts;

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    if (parse_listen(o->listen, err, sizeof err) != 0 || setup_tls(o, err, sizeof err) != 0)
        goto fail;
    {
        /* Migrate once, before the workers open their own connections. */
        run_opts.store = store_open(o->db_path, 0, err, sizeof err);
        struct store_conn *db =
            run_opts.store ? store_connect(run_opts.store, err, sizeof err) : NULL;
        if (!db)
            goto fail;
        int m = store_migrate(db, err, sizeof err);
        if (m == 0)
            auth_purge_expired(db);
        store_conn_close(db);
        if (m != 0)
            goto fail;
    }
    if (api_init(o, err, sizeof err) != 0)
        goto fail;
    h2o_config_init(&config);
    config.max_request_entity_size = o->max_body;
    /* Slow and idle clients (docs/architecture.md): in h2o 2.2 this is one deadline per
     * HTTP/1 request, from accept (or from the end of the previous answer on a kept-alive
     * connection) to the last body byte; bytes arriving do not extend it. A slowloris, a
     * trickled body or a silent connection is closed 30 s in, without an answer. */
    config.http1.req_timeout = 30000;
    config.http2.idle_timeout = 30000;
    h2o_hostconf_t *hc =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(hc, "/", 0);
    struct handler *hd = (struct handler *)h2o_create_handler(pc, sizeof *hd);
    hd->super.on_req = on_req;

    /* With port 0 the first listener picks the port; the others bind the same one. */
    for (int i = 0; i < o->threads; i++) {
        threads[i].fd = open_listener((struct sockaddr *)&bind_addr, bind_len);
        if (threads[i].fd < 0) {
            snprintf(err, sizeof err, "cannot listen on %s: %s", o->listen, strerror(errno));
            goto fail;
        }
        if (i == 0)
            getsockname(threads[0].fd, (struct sockaddr *)&bind_addr, &bind_len);
        if (worker_init(&threads[i].w, i, o, err, sizeof err) != 0)
            goto fail;
        threads[i].index = i;
        threads[i].o = o;
    }
    if (durable_start(o->store, err, sizeof err) != 0)
        goto fail;
    if (housekeep_start(o->store, err, sizeof err) != 0)
        fprintf(stderr, "grantd: %s; no housekeeping (expired tokens, old changes) in this run\n",
                err);
    /* As many slow-lane threads as loops: reads that outrun a loop slice (slowlane.h). */
    if (slowlane_start(o->threads, api_lane_worker_init, api_lane_thread_end, worker_release,
                       api_run_moved, err, sizeof err) != 0)
        fprintf(stderr, "grantd: %s; long reads stay on their loops\n", err);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    threads_all = threads;
    threads_n = o->threads;
    for (int i = 0; i < o->threads; i++) {
        if (pthread_create(&threads[i].tid, NULL, run_loop, &threads[i]) != 0)
            break;
        started++;
    }
    int port;
    if (bind_addr.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&bind_addr;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        port = ntohs(a6->sin6_port);
        fprintf(stderr, "listening on %s://[%s]:%d\n", ssl_ctx ? "https" : "http", host, port);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&bind_addr;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        port = ntohs(a4->sin_port);
        fprintf(stderr, "listening on %s://%s:%d\n", ssl_ctx ? "https" : "http", host, port);
    }
    fflush(stderr);
    if (o->on_listening)
        o->on_listening(o->on_listening_arg, port);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    rc = started == o->threads ? 0 : -1;
    slowlane_stop();
    housekeep_stop();
    durable_stop();
    fprintf(stderr, "grantd: stopped\n");
    h2o_config_dispose(&config);
    for (int i = 0; i < o->threads; i++)
        worker_release(&threads[i].w);
    api_release();
    store_close(run_opts.store);
    run_opts.store = NULL;
    free(threads);
    return rc;
fail:
    fprintf(stderr, "grantd serve: %s\n", err);
    for (int i = 0; i < o->threads; i++) {
        if (threads[i].fd > 0)
            close(threads[i].fd);
        worker_release(&threads[i].w);
    }
    api_release();
    store_close(run_opts.store);
    run_opts.store = NULL;
    free(threads);
    return -1;
}
