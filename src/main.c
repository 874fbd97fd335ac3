/* grantd's command line: one table of subcommands (git's commands[] style), each with its
 * own --help. Subcommands other than `serve` are short-lived administrative tools that
 * open the database, do one thing in a transaction, and exit. */
#include "auth.h"
#include "changelog.h"
#include "housekeep.h"
#include "probe.h"
#include "settings.h"
#include "sql.h"
#include "store.h"
#include "seed.h"
#include "server.h"
#include "util.h"
#include "value.h"

#include <jansson.h>

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *summary;
};

static const struct command *current;

static int usage_exit(int rc)
{
    FILE *f = rc ? stderr : stdout;
    fprintf(f, "usage: grantd %s\n\n%s\n", current->usage, current->summary);
    return rc;
}

/* Options common to all subcommands: --db F (or GRANTD_DB). */
static const char *db_path_default(void)
{
    const char *e = getenv("GRANTD_DB");
    return e && *e ? e : "grantd.db";
}

/* A tiny option scanner: returns the value of --name VALUE or --name=VALUE, removing both
 * from argv; NULL when absent. Flags without value use opt_flag. */
static const char *opt_value(int *argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int take = 0;
        if (strcmp(a, name) == 0 && i + 1 < *argc) {
            val = argv[i + 1];
            take = 2;
        } else if (strncmp(a, name, n) == 0 && a[n] == '=') {
            val = a + n + 1;
            take = 1;
        }
        if (take) {
            memmove(&argv[i], &argv[i + take], sizeof(char *) * (size_t)(*argc - i - take + 1));
            *argc -= take;
            return val;
        }
    }
    return NULL;
}

static int opt_flag(int *argc, char **argv, const char *name)
{
    for (int i = 1; i < *argc; i++)
        if (strcmp(argv[i], name) == 0) {
            memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(*argc - i));
            (*argc)--;
            return 1;
        }
    return 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int reject_extra(int argc, char **argv, int want)
{
    if (argc == want + 1)
        return 0;
    if (argc > want + 1)
        fprintf(stderr, "grantd %s: unexpected argument '%s'\n", current->name, argv[want + 1]);
    return usage_exit(2);
}

static struct store_conn *open_existing(const char *path)
{
    char err[256];
    struct store_conn *db = store_conn_open(path, 0, err, sizeof err);
    if (!db) {
        fprintf(stderr, "grantd: %s\n", err);
        return NULL;
    }
    if (store_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "grantd: migration failed: %s\n", err);
        store_conn_close(db);
        return NULL;
    }
    return db;
}

static int cmd_init(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *url = opt_value(&argc, argv, "--site-url");
    const char *status = opt_value(&argc, argv, "--site-status");
    int force = opt_flag(&argc, argv, "--force");
    char err[256];
    if (reject_extra(argc, argv, 0))
        return 2;
    path = path ? path : db_path_default();
    if (access(path, F_OK) == 0) {
        if (!force) {
            fprintf(stderr, "grantd init: %s exists; use --force to replace it\n", path);
            return 1;
        }
        char side[4096];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    struct store_conn *db = store_conn_open(path, STORE_CREATE, err, sizeof err);
    if (!db || store_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "grantd init: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (url && settings_set(db, "site_url", url, err, sizeof err) != 0)
        rc = 1;
    if (!rc && status && settings_set(db, "site_status", status, err, sizeof err) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "grantd init: %s\n", err);
    else
        fprintf(stderr, "initialized %s\n", path);
    store_conn_close(db);
    return rc;
}

static int cmd_config(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    char err[256], val[512];
    struct store_conn *db = NULL;
    int rc = 2;
    if (argc < 2)
        return usage_exit(2);
    db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    if (strcmp(argv[1], "get") == 0 && argc <= 3) {
        rc = 0;
        for (const struct setting_def *s = settings_table; s->key; s++) {
            if (argc == 3 && strcmp(argv[2], s->key) != 0)
                continue;
            settings_get(db, s->key, val, sizeof val);
            if (argc == 3)
                printf("%s\n", val);
            else
                printf("%s=%s\n", s->key, val);
        }
        if (argc == 3 && !settings_def(argv[2])) {
            fprintf(stderr, "grantd config: unknown setting '%s'\n", argv[2]);
            rc = 1;
        }
    } else if (strcmp(argv[1], "set") == 0 && argc == 4) {
        rc = settings_set(db, argv[2], argv[3], err, sizeof err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "grantd config: %s\n", err);
    } else {
        usage_exit(2);
    }
    store_conn_close(db);
    return rc;
}

static int cmd_seed(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *grants = opt_value(&argc, argv, "--grants");
    const char *rs = opt_value(&argc, argv, "--random-seed");
    char err[256];
    if (reject_extra(argc, argv, 0))
        return 2;
    struct seed_opts o = {0};
    o.grants = grants ? atol(grants) : 1000;
    o.random_seed = rs ? strtoull(rs, NULL, 10) : 1;
    o.progress = isatty(2);
    if (o.grants < 1 || o.grants > 100000000) {
        fprintf(stderr, "grantd seed: --grants must be between 1 and 100000000\n");
        return 2;
    }
    struct store_conn *db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    int rc = seed_run(db, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "grantd seed: %s\n", err);
    store_conn_close(db);
    return rc ? 1 : 0;
}

static int read_password(char *out, size_t outlen, int from_stdin)
{
    struct termios old, quiet;
    int tty = !from_stdin && isatty(0);
    if (!from_stdin && !tty)
        return 1; /* no password: an API-only user */
    if (tty) {
        fputs("password: ", stderr);
        tcgetattr(0, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSANOW, &quiet);
    }
    char *r = fgets(out, (int)outlen, stdin);
    if (tty) {
        tcsetattr(0, TCSANOW, &old);
        fputs("\n", stderr);
    }
    if (!r)
        return -1;
    out[strcspn(out, "\r\n")] = 0;
    return out[0] ? 0 : -1;
}

static int64_t user_id_by_login(struct store_conn *db, const char *login)
{
    struct store_stmt *st = NULL;
    int64_t id = 0;
    if (store_prepare(db, "SELECT id FROM \"user\" WHERE login = ? AND deleted_at IS NULL",
                      STORE_NUL, 0, &st) != STORE_OK)
        return 0;
    store_bind_text(st, 1, login, -1);
    if (store_step(st) == STORE_ROW)
        id = store_col_int(st, 0);
    store_finalize(st);
    return id;
}

static int exec_bound(struct store_conn *db, const char *sql, const char *fmt, ...);

static int cmd_user(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *role = opt_value(&argc, argv, "--role");
    const char *org = opt_value(&argc, argv, "--organization");
    int pw_stdin = opt_flag(&argc, argv, "--password-stdin");
    static const char *const roles[] = {"admin",    "super_user", "developer",
                                        "employee", "grantee",    NULL};
    char pw[1024], hash[crypto_pwhash_STRBYTES];
    if (argc != 3 || strcmp(argv[1], "add") != 0 || !role)
        return usage_exit(2);
    const char *const *r = roles;
    while (*r && strcmp(*r, role) != 0)
        r++;
    if (!*r) {
        fprintf(stderr, "grantd user: role must be admin, super_user, developer, employee or "
                        "grantee\n");
        return 2;
    }
    const char *login = argv[2];
    int pw_rc = read_password(pw, sizeof pw, pw_stdin);
    if (pw_rc < 0) {
        fprintf(stderr, "grantd user: empty password\n");
        return 2;
    }
    if (pw_rc == 0 && crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf(stderr, "grantd user: out of memory hashing the password\n");
        return 1;
    }
    sodium_memzero(pw, sizeof pw);
    struct store_conn *db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    int rc = 1;
    int64_t now = now_unix();
    if (store_begin(db, 1) != 0)
        goto out;
    if (user_id_by_login(db, login)) {
        fprintf(stderr, "grantd user: login '%s' exists\n", login);
        goto rollback;
    }
    if (org && exec_bound(db, "SELECT 1 FROM organization WHERE id = ? AND deleted_at IS NULL", "i",
                          atoll(org)) != 1) {
        fprintf(stderr, "grantd user: no organization %s\n", org);
        goto rollback;
    }
    char at[64], sql[256]; /* created_at and updated_at: datetime columns */
    sql_placeholder(at, sizeof at, SQLK_TIME, 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO \"user\"(login, first_name, last_name, role, state, created_at, "
             "updated_at) VALUES(?, ?, ?, ?, 'active', %s, %s)",
             at, at);
    if (exec_bound(db, sql, "ssssii", login, login, role, role, now, now) < 0)
        goto rollback;
    int64_t uid = store_last_id(db);
    struct changelog_fields cf = {.n = 0};
    const char *const ufields[] = {"login", "first_name", "last_name", "role", "state"};
    for (size_t i = 0; i < sizeof ufields / sizeof ufields[0]; i++)
        changelog_field(&cf, ufields[i]);
    if (changelog_note(db, "user", uid, CHANGE_CREATE, &cf, now) != 0)
        goto rollback;
    snprintf(sql, sizeof sql,
             "INSERT INTO user_organization(user_id, organization_id, created_at, "
             "updated_at) VALUES(?, ?, %s, %s)",
             at, at);
    if (org && exec_bound(db, sql, "iiii", uid, (int64_t)atoll(org), now, now) < 0)
        goto rollback;
    struct changelog_fields of = {.n = 2, .name = {"user_id", "organization_id"}};
    if (org &&
        changelog_note(db, "user_organization", store_last_id(db), CHANGE_CREATE, &of, now) != 0)
        goto rollback;
    if (pw_rc == 0 &&
        exec_bound(db, "INSERT INTO grantd_login(user_id, password_hash) VALUES(?, ?)", "is", uid,
                   hash) < 0)
        goto rollback;
    if (store_exec(db, "COMMIT", NULL, 0) != 0)
        goto rollback;
    printf("user_id=%lld\n", (long long)uid);
    rc = 0;
    goto out;
rollback:
    store_exec(db, "ROLLBACK", NULL, 0);
out:
    if (rc)
        fprintf(stderr, "grantd user: could not add %s\n", login);
    store_conn_close(db);
    return rc;
}

/* Run one statement with values described by fmt (i = int64, s = string). Returns 1 when
 * it produced a row, 0 when done, -1 on error. */
static int exec_bound(struct store_conn *db, const char *sql, const char *fmt, ...)
{
    struct store_stmt *st = NULL;
    va_list ap;
    if (store_prepare(db, sql, STORE_NUL, 0, &st) != STORE_OK)
        return -1;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i')
            store_bind_int(st, i + 1, va_arg(ap, int64_t));
        else
            store_bind_text_copy(st, i + 1, va_arg(ap, const char *), -1);
    }
    va_end(ap);
    int s = store_step(st);
    store_finalize(st);
    return s == STORE_ROW ? 1 : s == STORE_DONE ? 0 : -1;
}

static int cmd_client(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *owner = opt_value(&argc, argv, "--owner");
    int ro = opt_flag(&argc, argv, "--read-only");
    char err[256], id[65], secret[65];
    int rc = 1;
    if (argc < 2)
        return usage_exit(2);
    const char *sub = argv[1];
    int want = strcmp(sub, "list") == 0 ? 2 : 3;
    if (argc != want || (strcmp(sub, "add") == 0 && !owner))
        return usage_exit(2);
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "revoke") &&
        strcmp(sub, "rotate-secret"))
        return usage_exit(2);
    struct store_conn *db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    if (strcmp(sub, "add") == 0) {
        int64_t uid = user_id_by_login(db, owner);
        if (!uid) {
            fprintf(stderr, "grantd client: no user with login '%s'\n", owner);
        } else if (auth_client_add(db, argv[2], uid, ro, id, secret, err, sizeof err) == 0) {
            printf("client_id=%s\nclient_secret=%s\n", id, secret);
            rc = 0;
        } else {
            fprintf(stderr, "grantd client: %s\n", err);
        }
    } else if (strcmp(sub, "list") == 0) {
        struct store_stmt *st = NULL;
        if (store_prepare(db,
                          "SELECT c.client_id, c.name, COALESCE(u.login,'?'), c.read_only, "
                          "c.revoked_at IS NOT NULL FROM grantd_client c LEFT JOIN \"user\" "
                          "u ON u.id = c.owner_id ORDER BY c.id",
                          STORE_NUL, 0, &st) == STORE_OK) {
            while (store_step(st) == STORE_ROW)
                printf("%s\t%s\towner=%s%s%s\n", store_col_text(st, 0), store_col_text(st, 1),
                       store_col_text(st, 2), (int)store_col_int(st, 3) ? "\tread-only" : "",
                       (int)store_col_int(st, 4) ? "\trevoked" : "");
            rc = 0;
        }
        store_finalize(st);
    } else if (strcmp(sub, "revoke") == 0) {
        rc = auth_client_revoke(db, argv[2], err, sizeof err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "grantd client: %s\n", err);
    } else {
        rc = auth_client_rotate(db, argv[2], secret, err, sizeof err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "grantd client: %s\n", err);
        else
            printf("client_id=%s\nclient_secret=%s\n", argv[2], secret);
    }
    store_conn_close(db);
    return rc;
}

static int cmd_optimize(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    char err[256];
    if (reject_extra(argc, argv, 0))
        return usage_exit(2);
    struct store_conn *db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    int rc = store_optimize(db, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "grantd optimize: %s\n", err);
    store_conn_close(db);
    return rc == 0 ? 0 : 1;
}

static int cmd_backup(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *to = opt_value(&argc, argv, "--to");
    char err[256];
    if (!to || reject_extra(argc, argv, 0))
        return usage_exit(2);
    struct store_conn *src = open_existing(path ? path : db_path_default());
    if (!src)
        return 1;
    int rc = store_backup(src, to, err, sizeof err);
    if (rc == 0)
        fprintf(stderr, "backed up to %s\n", to);
    else
        fprintf(stderr, "grantd backup: %s\n", err);
    store_conn_close(src);
    return rc == 0 ? 0 : 1;
}

static int print_change(void *arg, const struct changelog_entry *e)
{
    char at[40];
    at[value_format_datetime(e->at, at)] = 0;
    json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:o,s:s}", "seq", (json_int_t)e->seq, "class", e->cls,
                          "id", (json_int_t)e->id, "operation", e->op, "fields",
                          json_loads(e->fields, 0, NULL), "at", at);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line)
        printf("%s\n", line);
    free(line);
    json_decref(o);
    (void)arg;
    return 0;
}

static int cmd_changes(int argc, char **argv)
{
    const char *path = opt_value(&argc, argv, "--db");
    const char *since = opt_value(&argc, argv, "--since");
    const char *limit = opt_value(&argc, argv, "--limit");
    const char *before = opt_value(&argc, argv, "--before");
    int prune = argc > 1 && strcmp(argv[1], "prune") == 0;
    int64_t after = 0, lim = 1000000, cut = 0;
    if (reject_extra(argc, argv, prune))
        return 2;
    if ((since && (value_parse_int(since, strlen(since), &after) != 0 || after < 0)) ||
        (limit && (value_parse_int(limit, strlen(limit), &lim) != 0 || lim < 1)) ||
        (before && value_parse_datetime(before, strlen(before), &cut) != 0) ||
        (prune && (since || limit)) || (!prune && before)) {
        fprintf(stderr, "grantd changes: bad option value\n");
        return usage_exit(2);
    }
    struct store_conn *db = open_existing(path ? path : db_path_default());
    if (!db)
        return 1;
    int rc = 1;
    if (prune) {
        int64_t n = housekeep_prune_changes(db, cut);
        if (n >= 0) {
            printf("dropped=%lld\n", (long long)n);
            rc = 0;
        }
    } else if (changelog_settle(db) == 0 && store_begin(db, 0) == STORE_OK) {
        int64_t head, pruned;
        if (changelog_bounds(db, &head, &pruned) == 0 &&
            changelog_read(db, after, lim > INT32_MAX ? INT32_MAX : (int)lim, print_change, NULL) >=
                0) {
            fprintf(stderr, "head=%lld pruned=%lld\n", (long long)head, (long long)pruned);
            rc = 0;
        }
        store_end_read(db);
    }
    if (rc)
        fprintf(stderr, "grantd changes: %s\n", store_errmsg(db));
    store_conn_close(db);
    return rc;
}

static int cmd_serve(int argc, char **argv)
{
    struct server_opts o = {0};
    const char *v;
    o.db_path = opt_value(&argc, argv, "--db");
    o.listen = opt_value(&argc, argv, "--listen");
    v = opt_value(&argc, argv, "--threads");
    const char *threads = v; /* without it: per CPU, by engine (below) */
    o.threads = v ? atoi(v) : 0;
    v = opt_value(&argc, argv, "--rate-limits");
    o.rate_limits = !(v && strcmp(v, "off") == 0);
    if (v && strcmp(v, "on") && strcmp(v, "off"))
        return usage_exit(2);
    v = opt_value(&argc, argv, "--max-body");
    o.max_body = v ? (size_t)strtoull(v, NULL, 10) : 32u << 20;
    v = opt_value(&argc, argv, "--max-url");
    o.max_url = v ? (size_t)strtoull(v, NULL, 10) : 64u << 10;
    o.tls_cert = opt_value(&argc, argv, "--tls-cert");
    o.tls_key = opt_value(&argc, argv, "--tls-key");
    o.trusted_proxy = opt_value(&argc, argv, "--trusted-proxy");
    if (reject_extra(argc, argv, 0))
        return 2;
    if (!o.db_path)
        o.db_path = db_path_default();
    if (!o.listen)
        o.listen = "127.0.0.1:8080";
    if (!threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        long n = (cpus < 1 ? 1 : cpus) * store_threads_per_core(o.db_path);
        o.threads = n > 64 ? 64 : (int)n;
    }
    if (o.threads < 1 || o.threads > 64 || o.max_body < 1024 || o.max_url < 1024 ||
        o.max_url > 400u << 10 || (!o.tls_cert != !o.tls_key)) {
        fprintf(stderr, "grantd serve: bad option value\n");
        return usage_exit(2);
    }
    return server_run(&o) ? 1 : 0;
}

static const struct command commands[] = {
    {"init", cmd_init,
     "init [--db F] [--site-url URL] [--site-status implementation|live|suspended] [--force]",
     "Create a new database with grantd's schema. Refuses to replace an existing one "
     "without --force."},
    {"config", cmd_config, "config [--db F] get [KEY] | set KEY VALUE",
     "Read or change site settings: site_url, site_status, error_status, token_lifetime, "
     "time_zone,\nweek_start, fiscal_year_start_month, query_time_limit, rate_limit.index, "
     "rate_limit.get, rate_limit.write,\nchange_retention_days, require_if_match."},
    {"seed", cmd_seed, "seed [--db F] [--grants N] [--random-seed S]",
     "Fill the database with deterministic demo data (organizations, people, programs, grant\n"
     "requests in every workflow state, payments and reports)."},
    {"user", cmd_user, "user add LOGIN --role ROLE [--organization ID] [--password-stdin] [--db F]",
     "Add a user with a role (admin, super_user, developer, employee, grantee). The password "
     "is read\nfrom a prompt, or one line of standard input with --password-stdin."},
    {"client", cmd_client,
     "client add NAME --owner LOGIN [--read-only] | list | revoke CLIENT_ID | rotate-secret "
     "CLIENT_ID [--db F]",
     "Manage OAuth clients. The secret is printed once, on add and rotate-secret; only its "
     "hash is kept."},
    {"backup", cmd_backup, "backup [--db F] --to FILE",
     "Write a consistent copy of the database while the server keeps serving."},
    {"changes", cmd_changes,
     "changes [--db F] [--since SEQ] [--limit N] | prune [--before DATETIME]",
     "Print the change log after SEQ, one JSON object a line (the feed's cursor is SEQ; the\n"
     "head and the highest pruned SEQ go to standard error). `prune` drops entries older than\n"
     "change_retention_days now (serve does so every minute), or older than DATETIME."},
    {"optimize", cmd_optimize, "optimize [--db F]",
     "Merge the full-text indexes into one segment each, as after a bulk load (seed runs it).\n"
     "Safe while the server runs: it waits for the write lock like any writer."},
    {"probe", probe_main, PROBE_USAGE, PROBE_SUMMARY},
    {"serve", cmd_serve,
     "serve [--db F] [--listen HOST:PORT] [--threads N] [--rate-limits on|off]\n"
     "             [--max-body BYTES] [--max-url BYTES] [--tls-cert F --tls-key F] "
     "[--trusted-proxy CIDR]",
     "Serve the Fluxx-compatible REST API. Prints 'listening on http://HOST:PORT' once ready;\n"
     "SIGTERM or SIGINT finish the requests in flight and exit 0."},
};

static void usage_all(FILE *f)
{
    fputs("usage: grantd COMMAND [options]   (database: --db F, default $GRANTD_DB or "
          "grantd.db)\n\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].usage);
    fputs("\n'grantd COMMAND --help' describes one command.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    store_global_init(); /* before any connection is opened */
    if (auth_init() != 0) {
        fputs("grantd: libsodium failed to initialize\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        current = &commands[i];
        if (wants_help(argc - 1, argv + 1))
            return usage_exit(0);
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "grantd: unknown command '%s'\n\n", argv[1]);
    usage_all(stderr);
    return 2;
}
