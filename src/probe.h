/* `grantd probe`: a read-only look at stored state in the API's engine-neutral form (money as
 * decimal text, datetimes as ISO-8601), so tests and operators never need to know how an
 * engine encodes values. It opens the database read-only and never migrates or writes. */
#ifndef GRANTD_PROBE_H
#define GRANTD_PROBE_H

#define PROBE_USAGE "probe [--db F] SQL [ARG...] | --tables [--all] | --columns TABLE | --digest"
#define PROBE_SUMMARY                                                                              \
    "Read stored state without writing (the database is opened read-only), printed as JSON.\n"     \
    "  SQL [ARG...]     run one query with ? placeholders; prints an array of row objects.\n"      \
    "                   ARG is typed by its prefix: i:123 integer, r:1.5 real, s:TEXT text,\n"     \
    "                   x:HEX blob, n: null. Columns read from a class field print as the API\n"   \
    "                   does (decimals as exact text, datetimes as YYYY-MM-DDTHH:MM:SSZ,\n"        \
    "                   booleans as true/false); others as stored (blobs as hex text).\n"          \
    "  --tables         the data tables (one per class); with --all every table of the engine.\n"  \
    "  --columns TABLE  [{\"name\", \"type\"}] in table order, types as declared.\n"               \
    "  --digest         {table: [rows, sha256 of every row in primary-key order]} over the data\n" \
    "                   tables (stable within one engine, for before/after comparisons).\n"        \
    "Exit status: 0 done, 1 database or SQL error, 2 bad usage."

/* The subcommand: argv[0] is "probe". Returns the process exit status (0, 1 or 2). */
int probe_main(int argc, char **argv);

#endif
