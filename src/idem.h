/* Idempotent retries: a write (POST, PUT, PATCH, DELETE of a record) that carries an
 * Idempotency-Key is answered once. Its answer is stored with the client, the key and a
 * hash of the request in the write's own transaction (grantd_idem), so it is stored exactly
 * when the write is; a repeat of the same request from the same client gets the stored
 * answer and writes nothing; the same key with another request is refused
 * (idempotency_mismatch); a repeat that ran while the first was still uncommitted
 * (PostgreSQL) gets 409 and finds the answer when it retries. Keys are kept 24 hours
 * (housekeep.c drops older ones). Only successful answers are stored: a refused write
 * changed nothing, and its repeat is judged again. */
#ifndef GRANTD_IDEM_H
#define GRANTD_IDEM_H

#include <stddef.h>
#include <stdint.h>

struct ctx;
struct store_conn;

#define IDEM_KEY_MAX 255
#define IDEM_KEEP_SECONDS 86400

struct idem {
    int on; /* the request carries a key */
    char key[IDEM_KEY_MAX + 1];
    unsigned char hash[32]; /* method, path and parameters */
};

/* Read the request's Idempotency-Key: 0 (k->on says whether there is one), or -1 after
 * answering a key that is empty, too long or not printable ASCII. */
int idem_read(struct ctx *c, struct idem *k);
/* Inside the write's transaction, before it writes: 0 to go on (no answer stored for the
 * key); 1 for a repeat: the stored answer is in c->out and c->status (with its ETag and an
 * Idempotent-Replayed header), for the caller to send once it let go of its transaction
 * (durably: the first answer may still be in this batch); -1 after answering an error
 * (another request under the same key: code 100, reason idempotency_mismatch). */
int idem_lookup(struct ctx *c, const struct idem *k);
/* Inside the write's transaction, its answer built in c->out: store it. 0, or -1 after
 * answering (409 when another request with the key committed meanwhile; 500). */
int idem_store(struct ctx *c, const struct idem *k, int status);
/* Drop keys older than IDEM_KEEP_SECONDS; the number dropped or -1. */
int64_t idem_purge(struct store_conn *db);

#endif
