/* The PostgreSQL engine behind store.h (libpq, blocking): one PGconn per connection with
 * grantd's session settings, `?` placeholders rewritten to $n, statements as cursors over
 * one whole PGresult, server-side prepared statements for the statement cache, the change
 * stamp (the server's snapshot), interrupts (PQcancel), pg_dump backups and the schema
 * (tables, indexes, full-text tables and triggers, live counts, the SQL functions the
 * dialect relies on), typed columns read back as the integers the layers above use, and
 * lazy reads whose BEGIN travels with their first statement (one round trip: run_first). */
#include "store_engine.h"
#include "registry.h"
#include "sql.h"
#include "util.h"
#include "value.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

/* Type OIDs (src/include/catalog/pg_type.dat: fixed across releases; the server headers
 * that name them are not part of libpq-dev). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
    OID_TIMESTAMPTZ = 1184,
};

#define PG_MAX_PARAMS 65535 /* the protocol's 16-bit parameter count */
#define DEALLOC_BATCH 32    /* finalized prepared statements dropped in one round trip */

struct pg_store {
    struct store base;
    char *url;
    int flags;
};

struct pg_conn {
    struct store_conn base;
    PGconn *pg;
    PGcancel *cancel; /* for store_interrupt from another thread, under cancel_lock */
    pthread_mutex_t cancel_lock;
    unsigned epoch; /* server sessions so far (revive): older sessions' statements are gone */
    int pending;    /* an asynchronous COMMIT (store_idle) awaits its result */
    int owed;       /* a read transaction's COMMIT, not sent yet (store_end_read) */
    int tx_open;    /* a transaction is open, as far as the caller knows (settle) */
    int read_tx;    /* the open transaction is a read one begun by pg_begin */
    int tx_stamped; /* tx_stamp is the open read transaction's stamp */
    int64_t tx_stamp;
    int lazy;           /* a read begun (store_begin_lazy) whose BEGIN is not sent yet */
    int assumed;        /* while lazy, store_stamp answered last_stamp */
    int stale;          /* the snapshot's stamp was not the one assumed (store_verify) */
    int cool;           /* reads still to begin eagerly after a stale one */
    int have_last;      /* last_stamp holds a stamp seen on this session */
    int64_t last_stamp; /* the latest stamp seen: what a lazy read assumes */
    int64_t changes, own, last_id;
    int insert_seen; /* an INSERT changed rows since last_id was read */
    int lastval_ok;  /* lastval() is defined in this session (it stays so) */
    int stamp_ready; /* the stamp's statement is prepared */
    unsigned long long names;
    char *dealloc; /* "DEALLOCATE g1;DEALLOCATE g7;...": finalized, not yet dropped */
    size_t dealloc_len;
    int ndealloc;
    int (*progress)(void *);
    void *progress_arg;
    char err[512];
};

/* A statement. Parameters are text (format 0) except blobs (binary bytea). The first step
 * executes and keeps the whole result; col_text and col_blob point into it (or into the
 * decoded bytea of the current row), valid until the next step or reset. */
struct pg_stmt {
    struct pg_conn *c;
    char *sql; /* with $n placeholders */
    int nparams;
    char name[24];  /* server-side prepared name; "" for PQexecParams */
    unsigned epoch; /* the connection's session it was prepared on */
    const char **vals;
    int *lens, *fmts;
    Oid *types;
    char **own;      /* per parameter: a copy this statement frees, or NULL */
    char (*num)[32]; /* per parameter: the text of a bound number */
    PGresult *res;
    int row, nrows, ncols;
    int walking;
    char **dec; /* per column: the current row's decoded bytea (NUL-terminated), or NULL */
    int *declen;
};

#define PS(s) ((struct pg_stmt *)(s))
#define PC(c) ((struct pg_conn *)(c))

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* SQLSTATE -> store result. Serialization failures and deadlocks are retryable waits for
 * another writer, as a lock timeout is: the client gets 503 + Retry-After. */
static int map_state(const char *s)
{
    if (!s)
        return STORE_ERROR;
    if (strcmp(s, "55P03") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return STORE_BUSY;
    if (strcmp(s, "57014") == 0)
        return STORE_INTERRUPT;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0)
        return STORE_BUSY; /* the connection or the server went away: retry (revive) */
    if (strncmp(s, "23", 2) == 0)
        return STORE_CONSTRAINT;
    if (strcmp(s, "53100") == 0)
        return STORE_FULL;
    return STORE_ERROR;
}

/* Rows changed by a command (INSERT/UPDATE/DELETE/MERGE; not SELECT, as in SQLite). */
static void note_command(struct pg_conn *c, const PGresult *res)
{
    const char *cs = PQcmdStatus((PGresult *)res);
    int ins = strncmp(cs, "INSERT ", 7) == 0;
    if (!ins && strncmp(cs, "UPDATE ", 7) != 0 && strncmp(cs, "DELETE ", 7) != 0 &&
        strncmp(cs, "MERGE ", 6) != 0)
        return;
    int64_t n = strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
    c->changes = n;
    c->own += n;
    if (ins && n > 0)
        c->insert_seen = 1;
}

/* The store result of res (which may be NULL: the connection failed); keeps the message. */
static int result_rc(struct pg_conn *c, const PGresult *res)
{
    if (!res || (PQresultStatus(res) == PGRES_FATAL_ERROR && PQstatus(c->pg) == CONNECTION_BAD)) {
        /* The session is gone (a restarted or failed-over server, a killed backend): the
         * client is told to retry, and the next request starts on a new session. */
        seterr(c->err, sizeof c->err, "the database connection was lost");
        return STORE_BUSY;
    }
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        note_command(c, res);
        return STORE_OK;
    case PGRES_FATAL_ERROR: {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        snprintf(c->err, sizeof c->err, "%s (SQLSTATE %s)", msg ? msg : PQresultErrorMessage(res),
                 state ? state : "?");
        return map_state(state);
    }
    default:
        snprintf(c->err, sizeof c->err, "unexpected result: %s", PQresStatus(PQresultStatus(res)));
        return STORE_ERROR;
    }
}

/* ---- the session ---- */

/* The result of an asynchronous COMMIT (store_idle), read. */
static void drain(struct pg_conn *c)
{
    if (c->pending) {
        PGresult *r;
        while ((r = PQgetResult(c->pg)) != NULL)
            PQclear(r);
        c->pending = 0;
    }
}

/* The connection, ready for the next command: a lazy read's BEGIN sent (when the command is
 * not its first statement, which takes it along: run_first), an asynchronous COMMIT's
 * result read, a read transaction's owed COMMIT run (a command that is not the next BEGIN
 * must not run inside the ended read). */
static void begin_now(struct pg_conn *c);
static PGconn *ready(struct pg_conn *c)
{
    if (c->lazy)
        begin_now(c); /* a command other than the read's first statement: BEGIN on its own */
    drain(c);
    if (c->owed) {
        c->owed = 0;
        PQclear(PQexec(c->pg, "COMMIT"));
    }
    return c->pg;
}

/* After a command: whether a transaction is open now (unchanged when the session was
 * lost: the caller still has to end it); one that ended takes its cached stamp along. */
static void settle(struct pg_conn *c)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_IDLE)
        c->tx_open = c->tx_stamped = c->read_tx = 0;
    else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        c->tx_open = 1;
}

/* A session lost (the server restarted or failed over, the backend was killed) is opened
 * again when the next request starts: PQreset connects with the same settings. Statements
 * prepared on the old session are prepared again at their next run (epoch); the watchers
 * reload their caches (the data may have changed meanwhile, as after a restore). While the
 * server is down each request tries once and fails with 503 + Retry-After. 0 when the
 * session is (again) usable. */
static int revive(struct pg_conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_BAD)
        return 0;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        seterr(c->err, sizeof c->err, "the database is unreachable");
        return -1;
    }
    c->epoch++;
    c->pending = c->owed = c->tx_open = c->read_tx = c->tx_stamped = 0;
    c->stamp_ready = c->lastval_ok = c->insert_seen = 0;
    c->lazy = c->assumed = c->have_last = 0;
    c->dealloc_len = 0;
    c->ndealloc = 0;
    for (int w = 0; w < STORE_WATCHES; w++)
        c->base.seen[w] = INT64_MIN;
    PGcancel *fresh = PQgetCancel(c->pg);
    pthread_mutex_lock(&c->cancel_lock);
    PGcancel *old = c->cancel;
    c->cancel = fresh;
    pthread_mutex_unlock(&c->cancel_lock);
    PQfreeCancel(old);
    return 0;
}

/* Whether a failed command can be tried again on a new session: the session was lost and
 * no transaction of the caller's was open on it (a lost transaction is never carried on
 * in another session: its caller sees the failure and ends it). */
static int lost_idle(struct pg_conn *c, int in_tx)
{
    return !in_tx && PQstatus(c->pg) == CONNECTION_BAD && revive(c) == 0;
}

/* ---- placeholders ---- */

/* Copy sql to out (when not NULL) with each `?` outside '...' literals, "..." identifiers
 * and comments replaced by $1, $2...; the number of placeholders, or -1 past the protocol's
 * limit. Doubled quotes inside literals need nothing: they close and reopen the literal.
 * E'...' escapes are not handled: grantd's SQL builder never writes them. */
static int placeholders(const char *sql, size_t len, char *out)
{
    size_t o = 0;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        size_t end = i + 1;
        if (ch == '\'' || ch == '"') {
            while (end < len && sql[end] != ch)
                end++;
            end = end < len ? end + 1 : len;
        } else if (ch == '-' && i + 1 < len && sql[i + 1] == '-') {
            while (end < len && sql[end] != '\n')
                end++;
        } else if (ch == '/' && i + 1 < len && sql[i + 1] == '*') {
            end = i + 2;
            while (end + 1 < len && !(sql[end] == '*' && sql[end + 1] == '/'))
                end++;
            end = end + 1 < len ? end + 2 : len;
        } else if (ch == '?') {
            if (++n > PG_MAX_PARAMS)
                return -1;
            if (out)
                o += (size_t)sprintf(out + o, "$%d", n);
            continue;
        }
        if (out)
            memcpy(out + o, sql + i, end - i);
        o += end - i;
        i = end - 1;
    }
    if (out)
        out[o] = '\0';
    return n;
}

/* ---- statements ---- */

static int64_t stamp_of(const PGresult *res)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return -1;
    const char *s = PQgetvalue(res, 0, 0);
    return (int64_t)(hash_bytes(s, strlen(s)) & INT64_MAX);
}

/* A read transaction's snapshot has stamp v: it answers store_stamp until the transaction
 * ends, becomes what the next lazy read assumes, and judges the stamp assumed before it. */
static void read_stamp(struct pg_conn *c, int64_t v)
{
    c->tx_stamp = v;
    c->tx_stamped = v >= 0;
    if (v < 0)
        return;
    if (c->assumed && (!c->have_last || v != c->last_stamp))
        c->stale = 1;
    c->assumed = 0;
    c->last_stamp = v;
    c->have_last = 1;
}

static void drop_decoded(struct pg_stmt *st)
{
    if (!st->dec)
        return;
    for (int i = 0; i < st->ncols; i++) {
        free(st->dec[i]);
        st->dec[i] = NULL;
    }
}

static void clear_result(struct pg_stmt *st)
{
    drop_decoded(st);
    free(st->dec);
    free(st->declen);
    st->dec = NULL;
    st->declen = NULL;
    PQclear(st->res);
    st->res = NULL;
    st->walking = 0;
    st->nrows = st->ncols = 0;
}

/* A statement under a progress function (the query time limit, the slow lane's slice):
 * sent without waiting, then the function is asked every PROGRESS_MS while the server
 * works; when it says stop, PQcancel ends the statement, which then fails with 57014
 * (STORE_INTERRUPT), as SQLite's progress handler stops a statement mid-way. */
#define PROGRESS_MS 2
#define CANCEL_AGAIN 10 /* polls */
/* Wait until PQgetResult will not block, asking the progress function every PROGRESS_MS
 * while the server works; when it says stop, PQcancel ends the running statement. */
static void await_result(struct pg_conn *c)
{
    int polls = 0, cancel_at = -1;
    while (PQisBusy(c->pg)) {
        struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
        int n = poll(&pfd, 1, PROGRESS_MS);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && !PQconsumeInput(c->pg))
            break; /* the connection failed: PQgetResult reports it */
        polls++;
        /* A cancel that reaches the backend before it has read the statement is dropped
         * (it only cancels a running one): while the answer does not come, ask again. */
        if (cancel_at >= 0 ? polls - cancel_at >= CANCEL_AGAIN : c->progress(c->progress_arg)) {
            char buf[256];
            cancel_at = polls;
            pthread_mutex_lock(&c->cancel_lock);
            if (c->cancel)
                PQcancel(c->cancel, buf, sizeof buf);
            pthread_mutex_unlock(&c->cancel_lock);
        }
    }
}

static int send_stmt(struct pg_conn *c, struct pg_stmt *st)
{
    return st->name[0]
               ? PQsendQueryPrepared(c->pg, st->name, st->nparams, st->vals, st->lens, st->fmts, 0)
               : PQsendQueryParams(c->pg, st->sql, st->nparams, st->types, st->vals, st->lens,
                                   st->fmts, 0);
}

static PGresult *run_watched(struct pg_conn *c, struct pg_stmt *st)
{
    ready(c);
    if (!send_stmt(c, st))
        return NULL;
    await_result(c);
    PGresult *res = PQgetResult(c->pg), *more;
    while ((more = PQgetResult(c->pg)) != NULL) /* one statement: one result, then NULL */
        PQclear(more);
    return res;
}

/* The stamp's statement, and a lazy read's BEGIN and COMMIT (parsed once, not per read),
 * prepared once per session. */
static int stamp_prepared(struct pg_conn *c)
{
    static const char *const stmts[][2] = {
        {"grantd_stamp", "SELECT pg_current_snapshot()::text"},
        {"grantd_begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
        {"grantd_commit", "COMMIT"},
    };
    for (size_t i = 0; !c->stamp_ready && i < sizeof stmts / sizeof stmts[0]; i++) {
        PGresult *p = PQprepare(c->pg, stmts[i][0], stmts[i][1], 0, NULL);
        int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
        PQclear(p);
        if (!ok)
            return 0;
    }
    c->stamp_ready = 1;
    return 1;
}

/* The first statement of a lazy read, with everything the read owes before it in one
 * pipeline and one round trip: the previous read's COMMIT (when owed), BEGIN, the stamp
 * (judging the one assumed: read_stamp) and the statement. STORE_OK with st->res kept, an
 * error, or RUN_PLAIN when the read was begun on its own instead (a statement prepared on a
 * lost session, a session found lost: sent again by the ordinary path). */
#define RUN_PLAIN 100
enum { Q_COMMIT, Q_BEGIN, Q_STAMP, Q_STMT };
static int run_first(struct pg_stmt *st)
{
    struct pg_conn *c = st->c;
    PGconn *pg = c->pg;
    c->lazy = 0;
    drain(c);
    if ((st->name[0] && st->epoch != c->epoch) || !stamp_prepared(c) || !PQenterPipelineMode(pg)) {
        c->lazy = 1;
        begin_now(c);
        return RUN_PLAIN;
    }
    int kinds[4], nq = 0;
    if (c->owed)
        kinds[nq++] = Q_COMMIT;
    c->owed = 0;
    kinds[nq++] = Q_BEGIN;
    kinds[nq++] = Q_STAMP;
    kinds[nq++] = Q_STMT;
    int sent = 1;
    for (int q = 0; q < nq && sent; q++) {
        if (kinds[q] == Q_COMMIT)
            sent = PQsendQueryPrepared(pg, "grantd_commit", 0, NULL, NULL, NULL, 0);
        else if (kinds[q] == Q_BEGIN)
            sent = PQsendQueryPrepared(pg, "grantd_begin", 0, NULL, NULL, NULL, 0);
        else if (kinds[q] == Q_STAMP)
            sent = PQsendQueryPrepared(pg, "grantd_stamp", 0, NULL, NULL, NULL, 0);
        else
            sent = send_stmt(c, st);
    }
    sent = sent && PQpipelineSync(pg);
    int rc = sent ? STORE_OK : result_rc(c, NULL), begun = 0;
    for (int q = 0; q < nq && sent; q++) {
        if (kinds[q] == Q_STMT && c->progress)
            await_result(c);
        PGresult *r = PQgetResult(pg);
        if (!r) { /* the connection failed */
            rc = result_rc(c, NULL);
            sent = 0;
            break;
        }
        PGresult *more;
        while ((more = PQgetResult(pg)) != NULL) /* each query: its result, then NULL */
            PQclear(more);
        if (kinds[q] == Q_COMMIT) {
            PQclear(r);
            continue;
        }
        if (rc == STORE_OK)
            rc = result_rc(c, r);
        if (kinds[q] == Q_BEGIN && rc == STORE_OK)
            begun = 1;
        if (kinds[q] == Q_STAMP && rc == STORE_OK)
            read_stamp(c, stamp_of(r));
        if (kinds[q] == Q_STMT && rc == STORE_OK) {
            st->res = r;
            continue;
        }
        PQclear(r);
    }
    if (sent) {
        PGresult *sync = PQgetResult(pg); /* PGRES_PIPELINE_SYNC */
        PQclear(sync);
    }
    PQexitPipelineMode(pg);
    if (!begun && PQstatus(pg) == CONNECTION_BAD) {
        /* A session lost while idle, found by this read: opened again, and the read begun
         * on the new one (nothing of it ran). */
        clear_result(st);
        c->lazy = 1;
        begin_now(c);
        return RUN_PLAIN;
    }
    settle(c);
    c->read_tx = begun;
    if (rc != STORE_OK) {
        clear_result(st);
        return rc;
    }
    st->nrows = PQntuples(st->res);
    st->ncols = PQnfields(st->res);
    st->row = -1;
    return STORE_OK;
}

static int run(struct pg_stmt *st)
{
    struct pg_conn *c = st->c;
    if (c->progress && c->progress(c->progress_arg)) {
        seterr(c->err, sizeof c->err, "interrupted (time limit)");
        return STORE_INTERRUPT;
    }
    if (c->lazy) {
        int rc = run_first(st);
        if (rc != RUN_PLAIN)
            return rc;
    }
    PGconn *pg = ready(c);
    /* Outside a transaction a lost session is opened again before the statement is sent
     * (never after a failure: a statement that ran may have committed before its answer
     * was lost). */
    if (!c->tx_open && revive(c) != 0)
        return STORE_BUSY;
    if (st->name[0] && st->epoch != c->epoch) { /* prepared on a session since lost */
        PGresult *p = PQprepare(pg, st->name, st->sql, 0, NULL);
        int prc = result_rc(c, p);
        PQclear(p);
        if (prc != STORE_OK)
            return prc;
        st->epoch = c->epoch;
    }
    PGresult *res;
    if (c->progress)
        res = run_watched(c, st);
    else if (st->name[0])
        res = PQexecPrepared(pg, st->name, st->nparams, st->vals, st->lens, st->fmts, 0);
    else
        res = PQexecParams(pg, st->sql, st->nparams, st->types, st->vals, st->lens, st->fmts, 0);
    int rc = result_rc(c, res);
    settle(c);
    if (rc != STORE_OK) {
        PQclear(res);
        return rc;
    }
    st->res = res;
    st->nrows = PQntuples(res);
    st->ncols = PQnfields(res);
    st->row = -1;
    return STORE_OK;
}

static int pg_step(struct store_stmt *s)
{
    struct pg_stmt *st = PS(s);
    drop_decoded(st);
    if (!st->res) {
        int rc = run(st);
        if (rc != STORE_OK)
            return rc;
    }
    if (st->row < st->nrows)
        st->row++;
    st->walking = st->row < st->nrows;
    return st->walking ? STORE_ROW : STORE_DONE;
}

static void pg_reset(struct store_stmt *s)
{
    clear_result(PS(s));
}

static void unbind(struct pg_stmt *st, int i)
{
    free(st->own[i]);
    st->own[i] = NULL;
    st->vals[i] = NULL;
    st->lens[i] = 0;
    st->fmts[i] = 0;
    st->types[i] = 0;
}

static void pg_clear(struct store_stmt *s)
{
    struct pg_stmt *st = PS(s);
    for (int i = 0; i < st->nparams; i++)
        unbind(st, i);
}

static void queue_dealloc(struct pg_conn *c, const char *name)
{
    char q[48];
    int n = snprintf(q, sizeof q, "DEALLOCATE %s;", name);
    c->dealloc = xrealloc(c->dealloc, c->dealloc_len + (size_t)n + 1);
    memcpy(c->dealloc + c->dealloc_len, q, (size_t)n + 1);
    c->dealloc_len += (size_t)n;
    c->ndealloc++;
}

/* A finalized prepared statement lives on in the server session until DEALLOCATE; evictions
 * from the statement cache are batched into one round trip, sent when the session can run
 * it (not in a failed transaction). Closing the connection drops them all anyway. */
static void flush_dealloc(struct pg_conn *c)
{
    if (c->ndealloc < DEALLOC_BATCH)
        return;
    PGTransactionStatusType ts = PQtransactionStatus(ready(c));
    if (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS)
        return;
    PQclear(PQexec(c->pg, c->dealloc));
    c->dealloc_len = 0;
    c->ndealloc = 0;
}

static void pg_finalize(struct store_stmt *s)
{
    struct pg_stmt *st = PS(s);
    clear_result(st);
    for (int i = 0; i < st->nparams; i++)
        free(st->own[i]);
    if (st->name[0] && st->epoch == st->c->epoch) /* a lost session took older ones along */
        queue_dealloc(st->c, st->name);
    free(st->sql);
    free(st->vals);
    free(st->lens);
    free(st->fmts);
    free(st->types);
    free(st->own);
    free(st->num);
    free(st);
}

static int pg_busy(struct store_stmt *s)
{
    return PS(s)->walking;
}

static int param(struct pg_stmt *st, int i)
{
    if (i < 1 || i > st->nparams) {
        snprintf(st->c->err, sizeof st->c->err, "bind index %d out of range", i);
        return -1;
    }
    unbind(st, i - 1);
    return i - 1;
}

static int pg_bind_int(struct store_stmt *s, int i, int64_t v)
{
    struct pg_stmt *st = PS(s);
    int k = param(st, i);
    if (k < 0)
        return STORE_ERROR;
    snprintf(st->num[k], sizeof st->num[k], "%lld", (long long)v);
    st->vals[k] = st->num[k];
    return STORE_OK;
}

static int pg_bind_double(struct store_stmt *s, int i, double v)
{
    struct pg_stmt *st = PS(s);
    int k = param(st, i);
    if (k < 0)
        return STORE_ERROR;
    snprintf(st->num[k], sizeof st->num[k], "%.17g", v);
    st->vals[k] = st->num[k];
    return STORE_OK;
}

/* Text parameters go as NUL-terminated text: a length-bounded string is copied. */
static int pg_bind_text(struct store_stmt *s, int i, const char *v, int n, int copy)
{
    struct pg_stmt *st = PS(s);
    int k = param(st, i);
    if (k < 0)
        return STORE_ERROR;
    if (!v)
        return STORE_OK; /* NULL text is SQL NULL, as in SQLite */
    if (n < 0 && !copy) {
        st->vals[k] = v;
        return STORE_OK;
    }
    st->own[k] = xstrndup(v, n < 0 ? strlen(v) : (size_t)n);
    st->vals[k] = st->own[k];
    return STORE_OK;
}

/* Blobs go binary as bytea (no escaping); the caller keeps the bytes until the reset. */
static int pg_bind_blob(struct store_stmt *s, int i, const void *p, int n)
{
    struct pg_stmt *st = PS(s);
    int k = param(st, i);
    if (k < 0)
        return STORE_ERROR;
    st->vals[k] = p ? (const char *)p : "";
    st->lens[k] = n;
    st->fmts[k] = 1;
    st->types[k] = OID_BYTEA;
    return STORE_OK;
}

static int pg_bind_null(struct store_stmt *s, int i)
{
    return param(PS(s), i) < 0 ? STORE_ERROR : STORE_OK;
}

static int pg_columns(struct store_stmt *s)
{
    return PS(s)->res ? PS(s)->ncols : 0;
}

static const char *pg_col_name(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    return st->res && i >= 0 && i < st->ncols ? PQfname(st->res, i) : NULL;
}

/* The value of column i of the current row, or NULL for SQL NULL or no row. */
static const char *cell(struct pg_stmt *st, int i)
{
    if (!st->walking || i < 0 || i >= st->ncols || PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

static enum store_type type_of(Oid t)
{
    switch (t) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
    case OID_TIMESTAMPTZ:
        return STORE_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
        return STORE_REAL;
    case OID_BYTEA:
        return STORE_BLOB;
    default: /* text, varchar, numeric (exact decimal text), date, json... */
        return STORE_TEXT;
    }
}

/* A numeric column of a declared scale (numeric(p,s): a class's decimal) reads as the
 * integer value * 10^s, as SQLite stores it; -1 for a numeric without one (an expression,
 * a sum), which reads as text unless it is a whole number. */
static int numeric_scale(const PGresult *r, int i)
{
    int mod = PQfmod(r, i);
    return mod >= 4 ? (mod - 4) & 0xffff : -1;
}

/* A numeric that holds a whole number in int64's range reads as an integer, as SQLite's
 * sum() of integers does: sum(bigint) and coalesce(sum(bigint), 0) are numeric here. */
static int whole_numeric(const char *v)
{
    const char *p = v + (*v == '-');
    size_t n = strspn(p, "0123456789");
    return n > 0 && n <= 18 && p[n] == '\0';
}

static enum store_type value_type(const char *v, const PGresult *r, int i)
{
    if (!v)
        return STORE_NULL;
    Oid t = PQftype(r, i);
    if (t == OID_NUMERIC && (numeric_scale(r, i) >= 0 || whole_numeric(v)))
        return STORE_INT;
    return type_of(t);
}

/* timestamptz as the session prints it (DateStyle ISO, TimeZone UTC, set at connect):
 * "YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM[:SS]]", into unix seconds (fractions dropped). */
static int64_t unix_seconds(const char *v)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    char *e;
    y = (int)strtol(v, &e, 10);
    if (*e == '-')
        mo = (int)strtol(e + 1, &e, 10);
    if (*e == '-')
        d = (int)strtol(e + 1, &e, 10);
    if (*e == ' ' || *e == 'T')
        h = (int)strtol(e + 1, &e, 10);
    if (*e == ':')
        mi = (int)strtol(e + 1, &e, 10);
    if (*e == ':')
        sec = (int)strtol(e + 1, &e, 10);
    if (*e == '.')
        e += 1 + strspn(e + 1, "0123456789");
    int64_t off = 0;
    if (*e == '+' || *e == '-') {
        int sign = *e == '-' ? -1 : 1;
        off = strtol(e + 1, &e, 10) * 3600;
        if (*e == ':')
            off += strtol(e + 1, &e, 10) * 60;
        if (*e == ':')
            off += strtol(e + 1, &e, 10);
        off *= sign;
    }
    if (strstr(e, "BC"))
        y = 1 - y;
    return value_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
}

static int64_t as_int(const char *v, const PGresult *r, int i)
{
    if (!v)
        return 0;
    switch (PQftype(r, i)) {
    case OID_BOOL:
        return v[0] == 't';
    case OID_TIMESTAMPTZ:
        return unix_seconds(v);
    case OID_NUMERIC: {
        int scale = numeric_scale(r, i);
        __int128 w = 0;
        if (scale >= 0 && value_parse_wide_scaled(v, strlen(v), scale, &w) == 0)
            return (int64_t)w;
        return strtoll(v, NULL, 10);
    }
    default:
        return strtoll(v, NULL, 10);
    }
}

static enum store_type pg_col_type(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    return value_type(cell(st, i), st->res, i);
}

/* bytea arrives as hex text; decoded once per row and column, kept until the next step. */
static const char *decoded(struct pg_stmt *st, int i, int *len)
{
    const char *v = cell(st, i);
    *len = 0;
    if (!v)
        return NULL;
    if (!st->dec) {
        st->dec = xcalloc((size_t)st->ncols, sizeof *st->dec);
        st->declen = xcalloc((size_t)st->ncols, sizeof *st->declen);
    }
    if (!st->dec[i]) {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
        if (!raw)
            return NULL;
        st->dec[i] = xmalloc(n + 1);
        memcpy(st->dec[i], raw, n);
        st->dec[i][n] = '\0';
        st->declen[i] = (int)n;
        PQfreemem(raw);
    }
    *len = st->declen[i];
    return st->dec[i];
}

static int64_t pg_col_int(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    const char *v = cell(st, i);
    return v ? as_int(v, st->res, i) : 0;
}

static double pg_col_double(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    const char *v = cell(st, i);
    if (!v)
        return 0;
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    return strtod(v, NULL);
}

static const char *pg_col_text(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    const char *v = cell(st, i);
    int n;
    if (v && PQftype(st->res, i) == OID_BYTEA)
        return decoded(st, i, &n);
    return v;
}

static const void *pg_col_blob(struct store_stmt *s, int i)
{
    return pg_col_text(s, i);
}

static int pg_col_bytes(struct store_stmt *s, int i)
{
    struct pg_stmt *st = PS(s);
    const char *v = cell(st, i);
    int n = 0;
    if (!v)
        return 0;
    if (PQftype(st->res, i) == OID_BYTEA) {
        decoded(st, i, &n);
        return n;
    }
    return PQgetlength(st->res, st->row, i);
}

static void pg_col_value(struct store_stmt *s, int i, struct store_value *out)
{
    struct pg_stmt *st = PS(s);
    const char *v = cell(st, i);
    if (!v) {
        out->type = STORE_NULL;
        return;
    }
    out->type = value_type(v, st->res, i);
    switch (out->type) {
    case STORE_INT:
        out->i = as_int(v, st->res, i);
        break;
    case STORE_REAL:
        out->d = strtod(v, NULL);
        break;
    case STORE_BLOB:
        out->s = decoded(st, i, &out->n);
        break;
    default:
        out->s = v;
        out->n = PQgetlength(st->res, st->row, i);
        break;
    }
}

static int pg_params(struct store_stmt *s)
{
    return PS(s)->nparams;
}

/* Copy the text of a one-row, one-column (or two-column) catalog answer. */
static int catalog_names(PGconn *pg, const char *sql, int n, const char *const *vals, char *a,
                         size_t alen, char *b, size_t blen)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 2) {
        snprintf(a, alen, "%s", PQgetvalue(r, 0, 0));
        snprintf(b, blen, "%s", PQgetvalue(r, 0, 1));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* The result column's table and column from the catalog (PQftable / PQftablecol): one
 * round trip, for diagnostics only. */
static int pg_col_origin(struct store_stmt *s, int i, char *table, size_t tlen, char *col,
                         size_t clen)
{
    struct pg_stmt *st = PS(s);
    if (!st->res || i < 0 || i >= st->ncols)
        return -1;
    Oid t = PQftable(st->res, i);
    int n = PQftablecol(st->res, i);
    if (t == InvalidOid || n <= 0)
        return -1;
    char ts[16], ns[16];
    snprintf(ts, sizeof ts, "%u", t);
    snprintf(ns, sizeof ns, "%d", n);
    const char *vals[2] = {ts, ns};
    return catalog_names(ready(st->c),
                         "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON "
                         "c.oid = a.attrelid WHERE a.attrelid = $1::oid AND a.attnum = $2::int2",
                         2, vals, table, tlen, col, clen);
}

static const struct store_stmt_ops pg_stmt_ops = {
    .step = pg_step,
    .reset = pg_reset,
    .clear = pg_clear,
    .finalize = pg_finalize,
    .busy = pg_busy,
    .bind_int = pg_bind_int,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .columns = pg_columns,
    .col_name = pg_col_name,
    .col_type = pg_col_type,
    .col_int = pg_col_int,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .col_value = pg_col_value,
    .params = pg_params,
    .col_origin = pg_col_origin,
};

/* ---- connections ---- */

static void pg_global_init(void)
{
    /* Nothing process-wide to set: libpq is thread-safe (PQisthreadsafe) and initializes
     * OpenSSL itself when a connection asks for TLS. */
}

static struct store *pg_open(const char *url, int flags, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &msg);
    if (!o) {
        snprintf(err, errlen, "bad PostgreSQL URL: %s", msg ? msg : "out of memory");
        PQfreemem(msg);
        return NULL;
    }
    PQconninfoFree(o);
    struct pg_store *s = xcalloc(1, sizeof *s);
    s->url = xstrdup(url);
    s->flags = flags;
    return &s->base;
}

static void pg_close(struct store *st)
{
    struct pg_store *s = (struct pg_store *)st;
    free(s->url);
    free(s);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* notices ("already exists, skipping") are not errors: never to stderr */
}

/* Session settings travel in the startup packet (no extra round trip): commits durable
 * before they answer, UTF-8, UTC, a lock wait that gives up after STORE_BUSY_MS, and no
 * JIT: LLVM compiling a filter of 200 conditions took seconds, could not be cancelled, and
 * grantd's statements are short. The
 * URL's own application_name wins over ours; our options and encoding win over the URL's. */
static struct store_conn *pg_connect(struct store *st, char *err, size_t errlen)
{
    struct pg_store *s = (struct pg_store *)st;
    char opts[256];
    snprintf(opts, sizeof opts,
             "-c synchronous_commit=on -c TimeZone=UTC -c DateStyle=ISO -c lock_timeout=%d "
             "-c jit=off "
             "-c client_min_messages=warning%s",
             STORE_BUSY_MS,
             (s->flags & STORE_READONLY) ? " -c default_transaction_read_only=on" : "");
    const char *keys[] = {"application_name", "dbname", "options", "client_encoding", NULL};
    const char *vals[] = {"grantd", s->url, opts, "UTF8", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        seterr(err, errlen, pg ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    struct pg_conn *c = xcalloc(1, sizeof *c);
    store_conn_init(&c->base, st);
    c->pg = pg;
    c->cancel = PQgetCancel(pg);
    pthread_mutex_init(&c->cancel_lock, NULL);
    return &c->base;
}

static void pg_disconnect(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    PQfreeCancel(c->cancel);
    pthread_mutex_destroy(&c->cancel_lock);
    PQfinish(c->pg);
    free(c->dealloc);
    free(c);
}

static int pg_prepare(struct store_conn *cn, const char *sql, size_t len, int persistent,
                      struct store_stmt **out)
{
    struct pg_conn *c = PC(cn);
    *out = NULL;
    if (len == STORE_NUL)
        len = strlen(sql);
    size_t i = 0;
    while (i < len && isspace((unsigned char)sql[i]))
        i++;
    if (i == len) {
        seterr(c->err, sizeof c->err, "empty statement");
        return STORE_ERROR;
    }
    int n = placeholders(sql, len, NULL);
    if (n < 0) {
        seterr(c->err, sizeof c->err, "too many parameters");
        return STORE_ERROR;
    }
    struct pg_stmt *st = xcalloc(1, sizeof *st);
    size_t cap = len + (size_t)n * 5 + 1; /* "?" -> "$65535" at most */
    st->c = c;
    st->sql = xmalloc(cap);
    placeholders(sql, len, st->sql);
    st->nparams = n;
    size_t slots = n ? (size_t)n : 1;
    st->vals = xcalloc(slots, sizeof *st->vals);
    st->lens = xcalloc(slots, sizeof *st->lens);
    st->fmts = xcalloc(slots, sizeof *st->fmts);
    st->types = xcalloc(slots, sizeof *st->types);
    st->own = xcalloc(slots, sizeof *st->own);
    st->num = xcalloc(slots, sizeof *st->num);
    flush_dealloc(c);
    if (persistent) {
        /* Parameter types are inferred here, once (a blob compared to a bytea column
         * infers bytea, so binary blobs still fit). */
        snprintf(st->name, sizeof st->name, "g%llu", ++c->names);
        st->epoch = c->epoch;
        PGresult *res = PQprepare(ready(c), st->name, st->sql, 0, NULL);
        int rc = result_rc(c, res);
        PQclear(res);
        if (rc != STORE_OK) {
            st->name[0] = '\0'; /* nothing to deallocate */
            pg_finalize((struct store_stmt *)st);
            return rc;
        }
    }
    *out = (struct store_stmt *)st;
    return STORE_OK;
}

static int starts_with(const char *s, const char *word)
{
    while (isspace((unsigned char)*s))
        s++;
    return strncasecmp(s, word, strlen(word)) == 0;
}

/* Several statements in one round trip (the simple protocol), each one's result read so
 * that own_changes counts every command's rows; the first error is the answer (the server
 * runs nothing after it). A COMMIT of a transaction that had failed answers "ROLLBACK"
 * without an error: that is a failure here. */
/* Rows of a catalog query: fn(name, type) per row; 0 or -1. */
static int catalog_each(struct pg_conn *c, const char *sql, const char *bind,
                        int (*fn)(void *arg, const char *name, const char *type), void *arg)
{
    const char *vals[1] = {bind};
    PGresult *r = PQexecParams(ready(c), sql, bind ? 1 : 0, NULL, vals, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        goto out;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(arg, PQgetvalue(r, i, 0), PQnfields(r) > 1 ? PQgetvalue(r, i, 1) : "") != 0)
            goto out;
    rc = 0;
out:
    PQclear(r);
    return rc;
}

struct name_only {
    int (*fn)(void *arg, const char *name);
    void *arg;
};

static int drop_type(void *arg, const char *name, const char *type)
{
    struct name_only *o = arg;
    (void)type;
    return o->fn(o->arg, name);
}

static int pg_tables(struct store_conn *cn, int (*fn)(void *arg, const char *name), void *arg)
{
    struct name_only o = {fn, arg};
    return catalog_each(PC(cn),
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                        "current_schema() ORDER BY table_name COLLATE \"C\"",
                        NULL, drop_type, &o);
}

static int pg_table_columns(struct store_conn *cn, const char *table,
                            int (*fn)(void *arg, const char *name, const char *type), void *arg)
{
    return catalog_each(PC(cn),
                        "SELECT column_name, data_type FROM information_schema.columns WHERE "
                        "table_schema = current_schema() AND table_name = $1 ORDER BY "
                        "ordinal_position",
                        table, fn, arg);
}

/* Non-unique indexes other than the primary key's, with their definitions (pg_indexes). */
static int pg_table_indexes(struct store_conn *cn, const char *table,
                            int (*fn)(void *arg, const char *name, const char *sql), void *arg)
{
    return catalog_each(PC(cn),
                        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON "
                        "c.relname = i.indexname AND c.relnamespace = (SELECT oid FROM "
                        "pg_namespace WHERE nspname = i.schemaname) JOIN pg_index x ON "
                        "x.indexrelid = c.oid WHERE i.schemaname = current_schema() AND "
                        "i.tablename = $1 AND NOT x.indisunique ORDER BY i.indexname COLLATE "
                        "\"C\"",
                        table, fn, arg);
}

/* The server sizes its own memory; a bulk load needs nothing here. */
static void pg_bulk(struct store_conn *cn, int on)
{
    (void)cn;
    (void)on;
}

static int pg_exec(struct store_conn *cn, const char *sql, char *err, size_t errlen)
{
    struct pg_conn *c = PC(cn);
    int rc = STORE_OK;
    if (!PQsendQuery(ready(c), sql)) {
        seterr(c->err, sizeof c->err, PQerrorMessage(c->pg));
        rc = STORE_ERROR;
        goto out;
    }
    PGresult *res;
    while ((res = PQgetResult(c->pg)) != NULL) {
        if (rc == STORE_OK) {
            rc = result_rc(c, res);
            if (rc == STORE_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0 &&
                !starts_with(sql, "ROLLBACK")) {
                seterr(c->err, sizeof c->err, "the transaction had failed: rolled back");
                rc = STORE_ERROR;
            }
        }
        PQclear(res);
    }
out:
    settle(c);
    if (starts_with(sql, "COMMIT") || starts_with(sql, "END") ||
        (starts_with(sql, "ROLLBACK") && !starts_with(sql, "ROLLBACK TO")))
        c->tx_open = c->tx_stamped = c->read_tx = 0; /* ended, even on a lost session */
    if (rc != STORE_OK) {
        seterr(err, errlen, c->err);
        return -1;
    }
    return 0;
}

static const char *pg_errmsg(struct store_conn *c)
{
    return PC(c)->err;
}

static int64_t pg_changes(struct store_conn *c)
{
    return PC(c)->changes;
}

/* The id of the last INSERT: lastval(), the value the session's latest nextval() gave,
 * which a class table's identity column draws on each INSERT. Asked lazily, only when an
 * INSERT has run since the last call (one round trip per create, none otherwise), instead
 * of rewriting INSERTs with RETURNING behind the caller's back. lastval() errors until the
 * session's first nextval(), and an error would abort the caller's transaction: until it
 * has once succeeded it runs inside a savepoint. Meaningless after an INSERT that gave its
 * own id (no sequence used): callers then know the id. */
static int64_t pg_last_id(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (!c->insert_seen)
        return c->last_id;
    c->insert_seen = 0;
    int guard = !c->lastval_ok && PQtransactionStatus(ready(c)) == PQTRANS_INTRANS;
    if (guard)
        PQclear(PQexec(c->pg, "SAVEPOINT grantd_lastval"));
    PGresult *res = PQexecParams(c->pg, "SELECT lastval()", 0, NULL, NULL, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (ok) {
        c->last_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        c->lastval_ok = 1;
    }
    PQclear(res);
    if (guard)
        PQclear(PQexec(c->pg, ok ? "RELEASE grantd_lastval"
                                 : "ROLLBACK TO grantd_lastval; RELEASE grantd_lastval"));
    return c->last_id;
}

static int pg_in_transaction(struct store_conn *c)
{
    if (PC(c)->lazy)
        return 1;
    return PQtransactionStatus(ready(PC(c))) != PQTRANS_IDLE;
}

/* A write transaction at READ COMMITTED: row locks are taken as rows are written, each
 * waiting at most lock_timeout (STORE_BUSY_MS). A read transaction sees one snapshot
 * (REPEATABLE READ, read only); its BEGIN and its change stamp travel in one round trip,
 * and the stamp, fixed with the snapshot, answers every store_stamp until it ends. A
 * transaction is where a request starts: a session lost since the last one is opened again
 * here, and a BEGIN that finds it lost is tried once more on the new one. */
static int begin_once(struct pg_conn *c, int write)
{
    PGconn *pg = c->pg;
    drain(c);
    c->tx_open = c->tx_stamped = c->read_tx = 0; /* a new transaction: any old one is over */
    c->lazy = 0;
    if (write)
        c->have_last = 0; /* its commit moves the stamp: the next read begins eagerly */
    if (revive(c) != 0)
        return STORE_BUSY;
    /* The previous read's COMMIT, when still owed, goes in the same message. */
    static const char *const text[2][2] = {
        {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_current_snapshot()::text",
         "COMMIT; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT "
         "pg_current_snapshot()::text"},
        {"BEGIN", "COMMIT; BEGIN"}};
    const char *sql = text[write ? 1 : 0][c->owed ? 1 : 0];
    c->owed = 0;
    if (!PQsendQuery(pg, sql))
        return result_rc(c, NULL);
    int rc = STORE_OK;
    PGresult *res;
    while ((res = PQgetResult(pg)) != NULL) {
        if (rc == STORE_OK)
            rc = result_rc(c, res);
        if (rc == STORE_OK && !write && PQresultStatus(res) == PGRES_TUPLES_OK)
            read_stamp(c, stamp_of(res));
        PQclear(res);
    }
    settle(c);
    c->read_tx = !write && rc == STORE_OK;
    return rc;
}

static int pg_begin(struct store_conn *cn, int write)
{
    struct pg_conn *c = PC(cn);
    int rc = begin_once(c, write);
    if (rc != STORE_OK && lost_idle(c, 0))
        rc = begin_once(c, write);
    return rc;
}

/* A lazy read (store_begin_lazy): nothing is sent yet. Its first statement carries the
 * BEGIN and the stamp (run_first); a stamp asked before that is assumed to be the last one
 * seen, and store_verify compares. Eager instead when there is nothing to assume (a new
 * session, a write on this connection since) or a recent lazy read found its assumption
 * wrong: under a stream of writes, assuming would only cost a request run twice. */
#define COOL_READS 16
static int pg_begin_lazy(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (!c->have_last || c->cool > 0 || PQstatus(c->pg) != CONNECTION_OK) {
        if (c->cool > 0)
            c->cool--;
        return pg_begin(cn, 0);
    }
    c->tx_open = c->tx_stamped = c->read_tx = 0;
    c->assumed = c->stale = 0;
    c->lazy = 1;
    return STORE_OK;
}

/* The lazy read's BEGIN, on its own (a command other than a statement needs it, or the
 * answer is to be verified before any statement ran). */
static void begin_now(struct pg_conn *c)
{
    c->lazy = 0;
    int rc = begin_once(c, 0);
    if (rc != STORE_OK && lost_idle(c, 0))
        rc = begin_once(c, 0);
    if (rc != STORE_OK && c->assumed)
        c->stale = 1; /* nothing to judge by: build the answer again, eagerly */
}

static int pg_verify(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (c->lazy && c->assumed)
        begin_now(c);
    int stale = c->stale;
    c->stale = 0;
    if (stale)
        c->cool = COOL_READS;
    return stale;
}

/* The end of a read transaction: its COMMIT (which cannot fail in a way that matters:
 * nothing was written) is owed, sent with the next BEGIN when the worker's loop has
 * another request in the same turn, else at the turn's end (store_idle) without waiting
 * for its answer, which is read before the session's next command. So a read transaction
 * never outlives its loop turn (an idle worker holds no snapshot or lock), and a busy
 * worker pays no round trip of its own for it. */
static void pg_end_read(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (c->lazy) { /* it never began: nothing ran */
        c->lazy = c->assumed = 0;
        return;
    }
    PGconn *pg = ready(c);
    PGTransactionStatusType ts = PQtransactionStatus(pg);
    int was_read = c->read_tx;
    c->tx_open = c->tx_stamped = c->read_tx = 0;
    if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
        return; /* none open, or the session was lost (the next request opens a new one) */
    if (ts == PQTRANS_INTRANS && was_read) {
        c->owed = 1;
        return;
    }
    PQclear(PQexec(pg, ts == PQTRANS_INTRANS ? "COMMIT" : "ROLLBACK"));
    settle(c);
}

static void pg_idle(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (!c->owed)
        return;
    c->owed = 0;
    if (PQsendQuery(c->pg, "COMMIT"))
        c->pending = 1;
}

/* The change stamp: a hash of pg_current_snapshot(), "xmin:xmax:in-progress xids". It
 * moves when any transaction that wrote commits or aborts (its xid leaves the in-progress
 * set or xmin advances) and when a writer takes an xid, and never otherwise: read-only
 * work takes no xid. It is exact where the alternatives are not: a commit becomes visible
 * to a snapshot at the very moment it leaves the snapshot's in-progress set, so a cache
 * reloaded after seeing a new stamp cannot hold data older than that stamp. (A counter
 * bumped by triggers serializes every writer on one row; a sequence or the WAL insert
 * position moves before the commit is visible -- a reader could cache old rows under the
 * new stamp; LISTEN/NOTIFY needs a socket read per request and a notification per commit.)
 * Unlike SQLite's data_version it also moves after this connection's own commits: a
 * spurious reload, never a stale cache. Inside a transaction it is that transaction's
 * snapshot: in a read transaction the one taken at its BEGIN (no round trip), elsewhere one
 * round trip (a prepared statement after the first call). Outside a transaction a request
 * may start here (a write's first question): a lost session is opened again first. */
static int64_t stamp_once(struct pg_conn *c)
{
    PGconn *pg = ready(c);
    if (c->tx_stamped && PQtransactionStatus(pg) != PQTRANS_IDLE)
        return c->tx_stamp;
    if (!c->tx_open && revive(c) != 0)
        return -1;
    if (!stamp_prepared(c))
        return -1;
    PGresult *res = PQexecPrepared(pg, "grantd_stamp", 0, NULL, NULL, NULL, 0);
    int64_t v = stamp_of(res);
    PQclear(res);
    return v;
}

static int64_t pg_stamp(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    if (c->lazy && c->have_last) {
        c->assumed = 1;
        return c->last_stamp;
    }
    int in_tx = c->tx_open;
    int64_t v = stamp_once(c);
    if (v < 0 && lost_idle(c, in_tx))
        v = stamp_once(c);
    return v;
}

static int64_t pg_own_changes(struct store_conn *c)
{
    return PC(c)->own;
}

/* PostgreSQL cannot call back during a statement: fn is asked before each statement runs
 * (run()), so a single long statement is not stopped by it; store_interrupt or a
 * statement_timeout (next step: set from the request's deadline) are what stop one. */
static void pg_set_progress(struct store_conn *cn, int (*fn)(void *), void *arg)
{
    struct pg_conn *c = PC(cn);
    c->progress = fn;
    c->progress_arg = arg;
}

/* PQcancel is thread-safe and asks the server to cancel whatever the session runs now
 * (nothing when it is idle): the statement then fails with 57014 -> STORE_INTERRUPT. */
static void pg_interrupt(struct store_conn *cn)
{
    struct pg_conn *c = PC(cn);
    char buf[256];
    pthread_mutex_lock(&c->cancel_lock);
    if (c->cancel)
        PQcancel(c->cancel, buf, sizeof buf);
    pthread_mutex_unlock(&c->cancel_lock);
}

static int pg_max_params(struct store_conn *c)
{
    (void)c;
    return PG_MAX_PARAMS;
}

/* pg_dump's custom format of the whole database (a consistent snapshot; the server keeps
 * serving). Run directly, no shell: dest and the URL are never parsed as shell words. */
static int pg_backup(struct store_conn *cn, const char *dest, char *err, size_t errlen)
{
    char file[4200], db[4200];
    int rc = -1, status = 0;
    if (snprintf(file, sizeof file, "--file=%s", dest) >= (int)sizeof file ||
        snprintf(db, sizeof db, "--dbname=%s", cn->store->url) >= (int)sizeof db) {
        seterr(err, errlen, "backup path or URL too long");
        goto out;
    }
    char *argv[] = {"pg_dump", "--format=custom", "--no-password", file, db, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        seterr(err, errlen, "cannot fork pg_dump");
        goto out;
    }
    if (pid == 0) {
        execvp("pg_dump", argv);
        execv("/usr/lib/postgresql/15/bin/pg_dump", argv); /* no pg_wrapper on PATH */
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "pg_dump failed (status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* ---- schema ---- */

/* A class field's column: typed, so that SQL clients (reports, BI tools, psql) read money as
 * exact decimals and times as times. Values cross the seam as the same integers as on
 * SQLite: bound through the dialect's conversions (sql_bind_as), read back scaled. */
static const char *pgtype(const struct field *f, char *buf, size_t n)
{
    switch (f->type) {
    case FT_FLOAT:
        return "double precision";
    case FT_STRING:
    case FT_TEXT:
        return "text";
    case FT_DATE:
        return "date";
    case FT_DECIMAL:
        snprintf(buf, n, "numeric(28,%d)", f->scale);
        return buf;
    case FT_DATETIME:
        return "timestamptz";
    case FT_BOOL:
        return "boolean";
    default: /* int, ref */
        return "bigint";
    }
}

static const char *internal_schema =
    "CREATE TABLE IF NOT EXISTS grantd_meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_setting(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_client(id bigint GENERATED BY DEFAULT AS IDENTITY "
    "PRIMARY KEY, client_id text NOT NULL UNIQUE, secret_hash bytea NOT NULL, name text NOT "
    "NULL, owner_id bigint NOT NULL, read_only bigint NOT NULL DEFAULT 0, redirect_uri text, "
    "created_at bigint NOT NULL, revoked_at bigint);"
    "CREATE TABLE IF NOT EXISTS grantd_token(hash bytea PRIMARY KEY, client bigint NOT NULL, "
    "created_at bigint NOT NULL, expires_at bigint NOT NULL, revoked_at bigint);"
    "CREATE INDEX IF NOT EXISTS grantd_token_client ON grantd_token(client);"
    "CREATE INDEX IF NOT EXISTS grantd_token_expiry ON grantd_token(expires_at);"
    "CREATE TABLE IF NOT EXISTS grantd_login(user_id bigint PRIMARY KEY, password_hash text "
    "NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_session(hash bytea PRIMARY KEY, user_id bigint NOT NULL, "
    "created_at bigint NOT NULL, expires_at bigint NOT NULL);"
    "CREATE INDEX IF NOT EXISTS grantd_session_expiry ON grantd_session(expires_at);"
    /* Live counts in shards (class, shard): a writing session adds to the shard of its
     * backend (pid % 16), so that concurrent creates of one class do not all wait on one
     * row until the first commits; a count is the sum of the class's shards. */
    "CREATE TABLE IF NOT EXISTS grantd_count(class text NOT NULL, shard integer NOT NULL "
    "DEFAULT 0, live bigint NOT NULL, PRIMARY KEY(class, shard));"
    "DO $$ BEGIN "
    "IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'grantd_count'::regclass "
    "AND attname = 'shard') THEN "
    "  ALTER TABLE grantd_count ADD COLUMN shard integer NOT NULL DEFAULT 0; "
    "  ALTER TABLE grantd_count DROP CONSTRAINT grantd_count_pkey; "
    "  ALTER TABLE grantd_count ADD PRIMARY KEY (class, shard); "
    "END IF; END $$;"
    /* The change log (store.h): writers commit concurrently, so an entry waits in
     * grantd_change_pending, in the order of its insert (a write that waited for another's
     * row lock inserts after that one committed), until pg_log_settle numbers it. */
    "CREATE TABLE IF NOT EXISTS grantd_change(seq bigint PRIMARY KEY, class text NOT NULL, "
    "record_id bigint NOT NULL, op text NOT NULL, fields text NOT NULL, at bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_change_pending(tmp bigint GENERATED ALWAYS AS IDENTITY, "
    "class text NOT NULL, record_id bigint NOT NULL, op text NOT NULL, fields text NOT NULL, at "
    "bigint NOT NULL);"
    /* Idempotency-Key answers (idem.h), a day per client and key */
    "CREATE TABLE IF NOT EXISTS grantd_idem(client text NOT NULL, key text NOT NULL, hash bytea "
    "NOT NULL, status integer NOT NULL, body text NOT NULL, etag bigint, created_at bigint NOT "
    "NULL, PRIMARY KEY(client, key));"
    "CREATE INDEX IF NOT EXISTS grantd_idem_at ON grantd_idem(created_at);"
    "INSERT INTO grantd_meta(key, value) VALUES('auth_gen', '1') ON CONFLICT DO NOTHING;"
    /* The functions the SQL above the seam calls under one name on every engine (sql.h):
     * SQL functions, so the planner inlines them. unixepoch: seconds now (SQLite's
     * built-in); instr: 1-based position or 0 (SQLite's); grantd_sum: the exact sum of
     * integers (numeric has no 64-bit overflow; NULL over no rows); grantd_fold: Unicode
     * case folding as fold.c does it: lower() with the database's UTF-8 ctype, the full
     * folds lower() lacks (dotted capital I, sharp s, final sigma, the Latin ligatures,
     * n preceded by apostrophe), then NFC. Not covered: Greek letters with iota
     * subscript and the Armenian ligatures, which libunistring folds to two letters. */
    "CREATE EXTENSION IF NOT EXISTS unaccent;"
    "CREATE OR REPLACE FUNCTION unixepoch() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE "
    "AS $$ SELECT CAST(floor(extract(epoch FROM now())) AS bigint) $$;"
    "CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE "
    "STRICT PARALLEL SAFE AS $$ SELECT strpos($1, $2) $$;"
    "CREATE OR REPLACE FUNCTION grantd_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT normalize(replace(replace(replace(replace(replace("
    "replace(replace(replace(replace(lower(replace($1, 'İ', 'i̇')), 'ß', 'ss'), 'ẞ', 'ss'), "
    "'ς', 'σ'), 'ﬀ', 'ff'), 'ﬁ', 'fi'), 'ﬂ', 'fl'), 'ﬃ', 'ffi'), 'ﬄ', 'ffl'), 'ŉ', 'ʼn'), NFC) "
    "$$;"
    "CREATE OR REPLACE FUNCTION grantd_sum_step(numeric, bigint) RETURNS numeric LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + "
    "$2 END $$;"
    "CREATE OR REPLACE AGGREGATE grantd_sum(bigint) (SFUNC = grantd_sum_step, STYPE = "
    "numeric);"
    "CREATE OR REPLACE AGGREGATE grantd_sum(numeric) (SFUNC = numeric_add, STYPE = numeric);"
    /* Live-row counts (store_live_count), one function per event for every class (named
     * by the trigger's argument). Inserts and deletes: statement-level over the transition
     * table, one UPDATE of the count row per statement (row-level, a seed's one transaction
     * updated the row once per record and walked an ever longer chain of its own row
     * versions: 50,000 grants took 575 s). Updates: row-level on `deleted_at` only (a
     * trigger with transition tables cannot name columns, and would capture every update's
     * rows); only deletes and restores set that column. */
    "CREATE OR REPLACE FUNCTION grantd_count_stmt() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE d bigint; "
    "BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    "  SELECT count(*) INTO d FROM grantd_new WHERE deleted_at IS NULL; "
    "ELSE "
    "  SELECT -count(*) INTO d FROM grantd_old WHERE deleted_at IS NULL; "
    "END IF; "
    "IF d <> 0 THEN INSERT INTO grantd_count AS c(class, shard, live) VALUES(TG_ARGV[0], "
    "  pg_backend_pid() % 16, d) ON CONFLICT (class, shard) DO UPDATE SET live = c.live + "
    "  EXCLUDED.live; END IF; "
    "RETURN NULL; "
    "END $$;"
    "CREATE OR REPLACE FUNCTION grantd_count_upd() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN "
    "  INSERT INTO grantd_count AS c(class, shard, live) VALUES(TG_ARGV[0], pg_backend_pid() "
    "  % 16, CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) ON CONFLICT (class, shard) "
    "  DO UPDATE SET live = c.live + EXCLUDED.live; "
    "END IF; "
    "RETURN NULL; "
    "END $$;"
    "DROP FUNCTION IF EXISTS grantd_count_row() CASCADE;"
    /* A database written before class columns were typed (decimals, datetimes and
     * booleans as bigint, dates as text) is converted in place, column by column, the
     * first time a newer grantd opens it. The live-count trigger names deleted_at, which
     * forbids changing its type: it is dropped here and placed again by the migration. */
    "CREATE OR REPLACE FUNCTION grantd_retype(tbl text, col text, typ text, conv text) "
    "RETURNS void LANGUAGE plpgsql AS $$ "
    "DECLARE cur text; "
    "BEGIN "
    "SELECT format_type(a.atttypid, a.atttypmod) INTO cur FROM pg_attribute a "
    "  WHERE a.attrelid = to_regclass(quote_ident(tbl)) AND a.attname = col "
    "  AND NOT a.attisdropped; "
    "IF cur IN ('bigint', 'text') AND cur <> typ THEN "
    "  EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', tbl || '__count_u', tbl); "
    "  EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE ' || typ || ' USING ' || conv, "
    "    tbl, col, col); "
    "END IF; "
    "END $$;";

/* Which columns are indexed: as in store_sqlite_schema.c (kept in step by hand until the
 * index choice moves above the seam). */
static int fk_used(const struct class_def *c, const char *col)
{
    if (c->scope_col && strcmp(c->scope_col, col) == 0)
        return 1;
    if (strcmp(c->name, "grant_request") == 0 &&
        (strcmp(col, "program_organization_id") == 0 ||
         strcmp(col, "fiscal_organization_id") == 0 || strcmp(col, "program_id") == 0))
        return 1;
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *o = &registry_classes[i];
        for (int j = 0; j < o->nfields; j++) {
            const struct field *f = &o->fields[j];
            if (f->type == FT_HAS_MANY && f->target && strcmp(f->target, c->name) == 0 && f->via &&
                strcmp(f->via, col) == 0)
                return 1;
        }
    }
    return 0;
}

static int index_wanted(const struct class_def *c, const struct field *f)
{
    if (f->type == FT_REF)
        return fk_used(c, f->name);
    return strcmp(f->name, "state") == 0 || strcmp(f->name, "updated_at") == 0 ||
           strcmp(f->name, "deleted_at") == 0;
}

/* An index name within PostgreSQL's 63 bytes: longer ones would be cut, and two cut to the
 * same prefix would make IF NOT EXISTS skip the second. */
static void index_name(char *out, size_t n, const char *cls, const char *col, const char *suffix)
{
    char full[256];
    int len = snprintf(full, sizeof full, "%s__%s%s", cls, col, suffix);
    if (len <= 63) {
        memcpy(out, full, (size_t)len + 1); /* out holds 64 or more */
        return;
    }
    snprintf(out, n, "%.46s_%016llx", full, (unsigned long long)hash_bytes(full, (size_t)len));
}

static void class_sql(struct sql *q, const struct class_def *c)
{
    int cols = 0;
    sql_append(q, "CREATE TABLE IF NOT EXISTS ");
    sql_ident(q, c->name);
    sql_append(q, "(\"id\" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);");
    /* Every column through ADD COLUMN IF NOT EXISTS: the same text creates and upgrades.
     * lock_version: the record's version (store.h), no registry field. */
    sql_append(q, "ALTER TABLE ");
    sql_ident(q, c->name);
    sql_append(q, " ADD COLUMN IF NOT EXISTS \"lock_version\" bigint NOT NULL DEFAULT 0;");
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!registry_has_column(f) || strcmp(f->name, "id") == 0)
            continue;
        if (cols++ == 0) {
            sql_append(q, "ALTER TABLE ");
            sql_ident(q, c->name);
            sql_append(q, " ADD COLUMN IF NOT EXISTS ");
        } else {
            sql_append(q, ", ADD COLUMN IF NOT EXISTS ");
        }
        char type[32];
        sql_ident(q, f->name);
        sql_appendf(q, " %s", pgtype(f, type, sizeof type));
    }
    if (cols)
        sql_append(q, ";");
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        static const char *const conv[] = {[FT_DECIMAL] = "%%I * 1e-%d",
                                           [FT_DATETIME] = "to_timestamp(%%I)",
                                           [FT_BOOL] = "%%I <> 0",
                                           [FT_DATE] = "CAST(%%I AS date)"};
        if (!registry_has_column(f) || (size_t)f->type >= sizeof conv / sizeof conv[0] ||
            !conv[f->type])
            continue;
        char type[32], how[32];
        snprintf(how, sizeof how, conv[f->type], f->scale);
        sql_appendf(q, "SELECT grantd_retype('%s', '%s', '%s', '%s');", c->name, f->name,
                    pgtype(f, type, sizeof type), how);
    }
    const struct field *state = registry_static_field(c, "state");
    int has_state = state && registry_has_column(state);
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!registry_has_column(f) || !index_wanted(c, f))
            continue;
        int deleted = strcmp(f->name, "deleted_at") == 0;
        int fk = f->type == FT_REF;
        int keyed = fk || strcmp(f->name, "state") == 0;
        char name[80];
        index_name(name, sizeof name, c->name, f->name, keyed ? "_live" : deleted ? "_some" : "");
        sql_appendf(q, "CREATE INDEX IF NOT EXISTS \"%s\" ON ", name);
        sql_ident(q, c->name);
        sql_append(q, "(");
        sql_ident(q, f->name);
        if (fk && has_state)
            sql_append(q, ", \"state\"");
        if (keyed)
            sql_append(q, ", \"deleted_at\"");
        sql_append(q, ")");
        if (deleted || fk) {
            sql_append(q, " WHERE ");
            sql_ident(q, f->name);
            sql_append(q, " IS NOT NULL");
        }
        sql_append(q, ";");
    }
    /* Live count: triggers (re)placed every time, the count taken once. */
    const struct field *del = registry_static_field(c, "deleted_at");
    if (del && registry_has_column(del)) {
        static const struct {
            const char *suffix, *event, *how, *fn;
        } ev[] = {
            {"i", "INSERT", "REFERENCING NEW TABLE AS grantd_new FOR EACH STATEMENT",
             "grantd_count_stmt"},
            {"d", "DELETE", "REFERENCING OLD TABLE AS grantd_old FOR EACH STATEMENT",
             "grantd_count_stmt"},
            {"u", "UPDATE OF \"deleted_at\"", "FOR EACH ROW", "grantd_count_upd"},
        };
        for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++) {
            sql_appendf(q, "CREATE OR REPLACE TRIGGER \"%s__count_%s\" AFTER %s ON ", c->name,
                        ev[e].suffix, ev[e].event);
            sql_ident(q, c->name);
            sql_appendf(q, " %s EXECUTE FUNCTION %s('%s');", ev[e].how, ev[e].fn, c->name);
        }
        sql_appendf(q, "INSERT INTO grantd_count(class, live) SELECT '%s', (SELECT count(*) FROM ",
                    c->name);
        sql_ident(q, c->name);
        sql_appendf(q,
                    " WHERE \"deleted_at\" IS NULL) WHERE NOT EXISTS (SELECT 1 FROM grantd_count "
                    "WHERE class = '%s');",
                    c->name);
    }
}

/* Rows inserted with their own ids (seed, imports) leave an identity sequence behind them:
 * move each sequence past its table's largest id, never back. */
/* Full text, as store_sqlite_schema.c does it with FTS5: per class with full-text fields
 * two tables of (id, tsv), "<class>__fts" for live records and "<class>__fts_deleted" for
 * soft-deleted ones, each with a GIN index, kept in step by a row trigger inside the
 * writing transaction (so a write is searchable by the next request). A record without
 * any text has no entry. The vector: the 'simple' configuration (lower case, no stemming)
 * over unaccent()ed text, so a search is case- and accent-insensitive like FTS5's
 * unicode61 with remove_diacritics. */
static int fts_field(const struct field *f)
{
    return (f->flags & FF_FULLTEXT) && !(f->flags & FF_SECRET) && registry_has_column(f);
}

static void fts_sql(struct sql *q, const struct class_def *c)
{
    int n = 0;
    if (!store_has_fulltext(c))
        return;
    for (int d = 0; d < 2; d++) {
        const char *sfx = d ? "_deleted" : "";
        sql_appendf(q,
                    "CREATE TABLE IF NOT EXISTS \"%s__fts%s\"(id bigint PRIMARY KEY, tsv tsvector "
                    "NOT NULL);",
                    c->name, sfx);
        sql_appendf(q,
                    "CREATE INDEX IF NOT EXISTS \"%s__fts%s_tsv\" ON \"%s__fts%s\" USING gin(tsv);",
                    c->name, sfx, c->name, sfx);
    }
    sql_appendf(q,
                "CREATE OR REPLACE FUNCTION \"%s__fts_row\"() RETURNS trigger LANGUAGE plpgsql "
                "AS $f$ BEGIN IF TG_OP <> 'INSERT' THEN DELETE FROM \"%s__fts\" WHERE id = OLD.id; "
                "DELETE FROM \"%s__fts_deleted\" WHERE id = OLD.id; END IF; IF TG_OP <> 'DELETE' "
                "AND (FALSE",
                c->name, c->name, c->name);
    for (int i = 0; i < c->nfields; i++)
        if (fts_field(&c->fields[i]))
            sql_appendf(q, " OR coalesce(NEW.\"%s\", '') <> ''", c->fields[i].name);
    sql_appendf(q, ") THEN IF NEW.deleted_at IS NULL THEN INSERT INTO \"%s__fts\" VALUES(NEW.id, ",
                c->name);
    for (int pass = 0; pass < 2; pass++) {
        /* Words as SQLite's unicode61 tokenizer sees them: runs of letters and digits (the
         * default parser would keep "3.5" or "-65" as one token). */
        sql_append(q, "to_tsvector('simple', regexp_replace(unaccent(concat_ws(' '");
        n = 0;
        for (int i = 0; i < c->nfields; i++)
            if (fts_field(&c->fields[i])) {
                sql_appendf(q, ", NEW.\"%s\"", c->fields[i].name);
                n++;
            }
        sql_append(q, ")), '[^[:alnum:]]+', ' ', 'g')));");
        if (pass == 0)
            sql_appendf(q, " ELSE INSERT INTO \"%s__fts_deleted\" VALUES(NEW.id, ", c->name);
    }
    sql_appendf(q,
                " END IF; END IF; RETURN NULL; END $f$;"
                "CREATE OR REPLACE TRIGGER \"%s__fts\" AFTER INSERT OR UPDATE OR DELETE ON ",
                c->name);
    sql_ident(q, c->name);
    sql_appendf(q, " FOR EACH ROW EXECUTE FUNCTION \"%s__fts_row\"();", c->name);
    (void)n;
}

static void ids_sql(struct sql *q, const struct class_def *c)
{
    sql_append(q, "SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('");
    sql_ident(q, c->name);
    sql_append(q, "', 'id') s, max(\"id\") m FROM ");
    sql_ident(q, c->name);
    sql_append(q, ") x WHERE m > coalesce(pg_sequence_last_value(s::regclass), 0);");
}

/* The whole schema in one transaction (DDL is transactional here), serialized between
 * processes by an advisory lock. Idempotent: every statement is IF NOT EXISTS or OR
 * REPLACE. */
static int pg_migrate(struct store_conn *cn, char *err, size_t errlen)
{
    struct sql q;
    int rc = -1;
    sql_init(&q);
    if (pg_exec(cn, "BEGIN; SELECT pg_advisory_xact_lock(7210361)", err, errlen) != 0)
        goto out;
    if (pg_exec(cn, internal_schema, err, errlen) != 0)
        goto out;
    for (int i = 0; i < registry_nclasses; i++) {
        sql_reset(&q);
        class_sql(&q, &registry_classes[i]);
        fts_sql(&q, &registry_classes[i]);
        ids_sql(&q, &registry_classes[i]);
        if (pg_exec(cn, q.buf, err, errlen) != 0)
            goto out;
    }
    if (pg_exec(cn,
                "INSERT INTO grantd_meta(key, value) VALUES('schema', '1') ON CONFLICT(key) DO "
                "UPDATE SET value = excluded.value; COMMIT",
                err, errlen) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && pg_in_transaction(cn))
        PQclear(PQexec(ready(PC(cn)), "ROLLBACK"));
    sql_release(&q);
    return rc;
}

/* VACUUM cannot run in a transaction block; the identity sequences are moved first (the
 * end of `grantd seed`, which writes its own ids). */
static int pg_optimize(struct store_conn *cn, char *err, size_t errlen)
{
    struct sql q;
    int rc = -1;
    if (pg_in_transaction(cn)) {
        seterr(err, errlen, "optimize inside a transaction");
        return -1;
    }
    sql_init(&q);
    for (int i = 0; i < registry_nclasses; i++)
        ids_sql(&q, &registry_classes[i]);
    if (q.len && pg_exec(cn, q.buf, err, errlen) != 0)
        goto out;
    if (pg_exec(cn, "VACUUM ANALYZE", err, errlen) != 0)
        goto out;
    rc = 0;
out:
    sql_release(&q);
    return rc;
}

/* ---- durability: COMMIT with synchronous_commit=on is durable when it returns ---- */

static int pg_durable_start(struct store *s, char *err, size_t errlen)
{
    return 0;
}

static int pg_durable_flush(struct store *s)
{
    return 0;
}

static void pg_durable_stop(struct store *s)
{
}

static int pg_group_commit(struct store_conn *c)
{
    return 0;
}

/* Full-text indexing is the next step of this engine: nothing is deferred yet. */
static int pg_fulltext_defer(struct store_conn *c)
{
    return 0;
}

static int pg_fulltext_sync(struct store_conn *c)
{
    return 0;
}

/* Number the change-log entries of committed writes (store_log_settle): under a lock that
 * every settler takes (one at a time, on every node), in a READ COMMITTED transaction whose
 * statement after the lock sees all that the settler before it moved. Entries of writes
 * still open stay invisible and are numbered by a later call, after everything numbered
 * now: the log follows commit order. The statement's COMMIT is durable before any reader
 * sees the numbers (synchronous_commit=on). */
static int pg_log_settle(struct store_conn *cn)
{
    static const char sql[] =
        "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(7210362); "
        "WITH moved AS (DELETE FROM grantd_change_pending RETURNING tmp, class, record_id, op, "
        "fields, at), base AS (SELECT coalesce(max(seq), 0) AS b FROM grantd_change) "
        "INSERT INTO grantd_change(seq, class, record_id, op, fields, at) SELECT b + "
        "row_number() OVER (ORDER BY tmp), class, record_id, op, fields, at FROM moved, base; "
        "COMMIT";
    char err[256];
    if (pg_exec(cn, sql, err, sizeof err) == 0)
        return 0;
    pg_exec(cn, "ROLLBACK", NULL, 0);
    return -1;
}

const struct store_engine store_pg = {
    .name = "postgresql",
    .stmt = &pg_stmt_ops,
    .dialect = &sql_dialect_pg,
    .threads_per_core = 4,   /* blocking round trips: a worker waits on the server */
    .concurrent_writers = 1, /* row locks; COMMITs group-committed by the server */
    .global_init = pg_global_init,
    .open = pg_open,
    .close = pg_close,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .migrate = pg_migrate,
    .optimize = pg_optimize,
    .backup = pg_backup,
    .durable_start = pg_durable_start,
    .durable_flush = pg_durable_flush,
    .durable_stop = pg_durable_stop,
    .group_commit = pg_group_commit,
    .prepare = pg_prepare,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .changes = pg_changes,
    .last_id = pg_last_id,
    .in_transaction = pg_in_transaction,
    .begin = pg_begin,
    .begin_lazy = pg_begin_lazy,
    .verify = pg_verify,
    .end_read = pg_end_read,
    .idle = pg_idle,
    .stamp = pg_stamp,
    .own_changes = pg_own_changes,
    .set_progress = pg_set_progress,
    .interrupt = pg_interrupt,
    .max_params = pg_max_params,
    .tables = pg_tables,
    .table_columns = pg_table_columns,
    .table_indexes = pg_table_indexes,
    .bulk = pg_bulk,
    .fulltext_defer = pg_fulltext_defer,
    .fulltext_sync = pg_fulltext_sync,
    .log_table = "grantd_change_pending",
    .log_settle = pg_log_settle,
};
