/* `grantd seed`: deterministic demo data (geography, organizations, people, programs,
 * funds, grant requests with payments, reports, notes and workflow events) written into
 * an already-migrated database in one transaction. The same seed and the same UTC date
 * give the same rows. It does not create admin users or OAuth clients (the CLI does). */
#ifndef GRANTD_SEED_H
#define GRANTD_SEED_H

#include "store.h"
#include <stddef.h>
#include <stdint.h>

struct seed_opts {
    long grants;                    /* grant_request rows to create (the CLI defaults 1000) */
    unsigned long long random_seed; /* PRNG seed; any value, 0 included */
    int progress;                   /* draw a progress bar on stderr */
    int64_t today;                  /* unix seconds used as "now"; 0 = time(NULL) */
};

/* Fills the database; 0, or -1 with a message in err (nothing is written then).
 * Refuses a database that already holds organizations or grant requests. */
int seed_run(struct store_conn *db, const struct seed_opts *o, char *err, size_t errlen);

#endif
