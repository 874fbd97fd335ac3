/* Request parameters: the query string and the body (urlencoded, multipart/form-data or a
 * JSON object) merged into one JSON object, Rails nested keys unfolded
 * (`data[first_name]=Ann` -> {"data":{"first_name":"Ann"}}, `cols[]=a` -> {"cols":["a"]}).
 * A body value wins over a query value of the same name. It does not interpret any
 * parameter; the API layer asks for them by name. */
#ifndef GRANTD_PARAMS_H
#define GRANTD_PARAMS_H

#include <jansson.h>
#include <stddef.h>

#define PARAMS_MAX_KEYS 4096 /* more parameters than this is a 103 error */
#define PARAMS_MAX_DEPTH 16  /* nesting depth of Rails keys and JSON values */

enum {
    PARAMS_OK = 0,
    PARAMS_EBAD = -1,  /* malformed input (bad JSON body, bad multipart, too many keys) */
    PARAMS_ETYPE = -2, /* unsupported Content-Type (answer 415) */
};

/* Decode application/x-www-form-urlencoded text (also the query string) into `out`,
 * replacing members of the same name. `err` gets a short message on failure. */
int params_parse_urlencoded(json_t *out, const char *s, size_t n, char *err, size_t errlen);
/* Decode a body by its Content-Type (NULL or empty with an empty body is fine; an empty
 * body is fine for any type). Supported: application/x-www-form-urlencoded,
 * multipart/form-data (parts with a filename are kept as strings under their name),
 * application/json (must be an object; duplicate keys rejected). */
int params_parse_body(json_t *out, const char *ctype, size_t ctype_len, const char *body, size_t n,
                      char *err, size_t errlen);

/* A JSON-valued parameter (cols, filter, relation, sort, data, group, aggregation):
 * a string member is parsed as JSON (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY), anything
 * else is returned as is. Returns a NEW reference, NULL when absent (err empty) or
 * malformed (err says why, naming the parameter). */
json_t *params_json(json_t *params, const char *name, char *err, size_t errlen);
/* A flag: 1 for 1, true, "1", "true" (case-insensitive), else 0. */
int params_flag(json_t *params, const char *name);
/* A plain string parameter, or NULL (numbers are not converted). */
const char *params_str(json_t *params, const char *name);
/* A positive integer parameter (string or number); returns def when absent, -1 when
 * present but not a positive integer. */
long long params_posint(json_t *params, const char *name, long long def);

#endif
