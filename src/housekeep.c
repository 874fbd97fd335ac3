/* Housekeeping (housekeep.h). */
#include "housekeep.h"
#include "auth.h"
#include "changelog.h"
#include "durable.h"
#include "idem.h"
#include "settings.h"
#include "store.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUND_SECONDS 60

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running;
static atomic_int stopping;
static struct store_conn *conn;

struct prune_step {
    struct store_conn *db;
    int64_t before;
    int64_t dropped;
};

static int prune_step(void *arg)
{
    struct prune_step *p = arg;
    p->dropped = changelog_prune(p->db, p->before, HOUSEKEEP_STEP);
    return p->dropped < 0 ? -1 : 0;
}

static int purge_expired(void *arg)
{
    return auth_purge_expired(arg) < 0 || idem_purge(arg) < 0 ? -1 : 0;
}

int64_t housekeep_prune_changes(struct store_conn *db, int64_t before)
{
    if (!before)
        before = now_unix() - settings_int(db, "change_retention_days") * 86400;
    struct prune_step p = {.db = db, .before = before};
    int64_t total = 0;
    do {
        if (durable_exclusive(prune_step, &p) != 0)
            return -1;
        total += p.dropped;
    } while (p.dropped == HOUSEKEEP_STEP && !stopping);
    return total;
}

static void *loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        pthread_mutex_unlock(&mu);
        /* numbered even when no reader asks (PostgreSQL parks entries until then) */
        if (changelog_settle(conn) != 0)
            fprintf(stderr, "grantd: numbering the change log failed: %s\n", store_errmsg(conn));
        if (housekeep_prune_changes(conn, 0) < 0)
            fprintf(stderr, "grantd: pruning the change log failed: %s\n", store_errmsg(conn));
        durable_exclusive(purge_expired, conn);
        pthread_mutex_lock(&mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ROUND_SECONDS;
        while (!stopping && pthread_cond_timedwait(&cv, &mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int housekeep_start(struct store *s, char *err, size_t errlen)
{
    conn = store_connect(s, err, errlen);
    if (!conn)
        return -1;
    stopping = 0;
    if (pthread_create(&thread, NULL, loop, NULL) != 0) {
        snprintf(err, errlen, "cannot start the housekeeping thread");
        store_conn_close(conn);
        conn = NULL;
        return -1;
    }
    running = 1;
    return 0;
}

void housekeep_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    store_conn_close(conn);
    conn = NULL;
    running = 0;
}
