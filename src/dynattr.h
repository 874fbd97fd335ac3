/* Site-defined fields (Fluxx's dynamic attributes): each live `model_attribute` row adds a
 * field to its class. The set is an immutable, reference-counted snapshot with a
 * generation number; a model_attribute write adds the column in its own transaction and
 * bumps `schema_gen` in grantd_meta, and every worker picks the new snapshot up at its
 * next request (also when another process made the change). */
#ifndef GRANTD_DYNATTR_H
#define GRANTD_DYNATTR_H

#include "registry.h"

#include "store.h"
#include <stdint.h>

/* Make the calling thread's snapshot current (cheap when nothing changed). */
void dyn_sync(struct store_conn *db);
/* Rebuild the snapshot from the database now (after a model_attribute write commits). */
int dyn_reload(struct store_conn *db);
/* Dynamic fields of class c in the thread's snapshot; returns the count. */
int dyn_fields(const struct class_def *c, const struct field **out);
const struct field *dyn_field(const struct class_def *c, const char *name);
/* model_attribute.attribute_type -> field type; -1 when unknown. */
int dyn_type(const char *attribute_type);
/* Validate a new attribute and add its column (inside the caller's transaction); bumps
 * schema_gen. 0, or -1 with a problem for the validation details. */
int dyn_add_column(struct store_conn *db, const char *model_type, const char *name,
                   const char *type, char *problem, size_t plen, const char **field_at_fault);
int dyn_bump(struct store_conn *db);
/* Generation of the thread's snapshot (changes whenever the field set does). */
int64_t dyn_generation(void);
void dyn_release_thread(void);

#endif
