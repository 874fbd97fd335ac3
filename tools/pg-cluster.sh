# Start and stop a private PostgreSQL 15 cluster; sourced (". tools/pg-cluster.sh") by
# tools/pg-test.sh (a throw-away cluster per test run) and bench/run.sh (a seeded cluster
# cached in bench/out/db/, copied per run). POSIX sh, no side effects when sourced.
#
# As root the server runs as the unprivileged system user grantd-test (initdb refuses
# root): pgc_own DIR gives it a directory. The server listens on a unix socket only
# (listen_addresses empty), port 5432 in its own socket directory, fsync on,
# synchronous_commit=on; superuser "grantd", trust authentication.
#
#   pgc_own DIR                     make DIR (recursively) the server user's, when root
#   pgc_initdb DATA LOG             a new cluster in DATA (initdb's output to LOG)
#   pgc_start DATA SOCKDIR LOG [-c name=value...]   start, wait until it accepts connections
#   pgc_stop DATA                   fast shutdown, wait (clean: the directory can be copied)
#   pgc_url SOCKDIR DB              the postgresql:// URL grantd takes
pgc_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pgc_as=""
if [ "$(id -u)" = 0 ]; then
    pgc_as="runuser -u grantd-test --"
fi

pgc_check() {
    [ -x "$pgc_bin/initdb" ] || { echo "pg: no $pgc_bin/initdb (apt-get install postgresql)" >&2; return 1; }
    if [ -n "$pgc_as" ] && ! id grantd-test >/dev/null 2>&1; then
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin grantd-test
    fi
    return 0
}

pgc_own() { # dir
    [ -z "$pgc_as" ] || chown -R grantd-test "$1"
}

pgc_initdb() { # data log
    # --no-sync: initdb's own files are not flushed (the server itself runs with fsync on).
    $pgc_as "$pgc_bin/initdb" -D "$1" -U grantd -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$2" 2>&1 ||
        { cat "$2" >&2; return 1; }
}

pgc_start() { # data sockdir log [-c name=value ...]
    pgc_d=$1 pgc_s=$2 pgc_l=$3
    shift 3
    pgc_o="-k $pgc_s -c listen_addresses= -p 5432 -c fsync=on -c synchronous_commit=on"
    for pgc_x in "$@"; do pgc_o="$pgc_o $pgc_x"; done
    if ! $pgc_as "$pgc_bin/pg_ctl" -D "$pgc_d" -l "$pgc_l" -w -t 120 -o "$pgc_o" start >/dev/null; then
        cat "$pgc_l" >&2
        return 1
    fi
}

pgc_stop() { # data
    $pgc_as "$pgc_bin/pg_ctl" -D "$1" -m fast -w -t 120 stop >/dev/null 2>&1
}

pgc_url() { # sockdir db
    echo "postgresql:///$2?host=$1&port=5432&user=grantd"
}
