/* What the documentation says about a field or class, read from the registry (static and
 * site-defined fields alike), shared by the HTML pages (docs.c) and the machine-readable
 * descriptions (openapi.c), so the two never disagree. Secret fields are left out. */
#ifndef GRANTD_DOCS_H
#define GRANTD_DOCS_H

#include "registry.h"

/* Fields the documentation shows, static then site-defined (the calling thread's snapshot,
 * which the pipeline syncs at the start of every request). */
int docs_nfields(const struct class_def *k);
const struct field *docs_field(const struct class_def *k, int i); /* NULL: skip (secret) */

const char *docs_data_type(const struct field *f); /* integer, string, ..., or a class */
const char *docs_kind(const struct field *f);      /* column or relation */
const struct class_def *docs_related(const struct field *f);
int docs_writable(const struct class_def *k, const struct field *f);
int docs_groupable(const struct field *f);
int docs_dynamic(const struct field *f);
int docs_plural(const struct field *f);
/* Who may create, update and delete records of k (contract §8), in words. */
const char *docs_writers(const struct class_def *k);

#endif
