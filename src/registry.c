/* Registry lookups over the class tables of src/models/classes.c. Lookups by name are
 * linear over small arrays; the hot path caches the results per request. */
#include "registry.h"
#include "dynattr.h"

#include <string.h>
#include <strings.h>

const struct class_def *registry_class(const char *name, size_t len)
{
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *c = &registry_classes[i];
        if ((strlen(c->name) == len && memcmp(c->name, name, len) == 0) ||
            (strlen(c->camel) == len && memcmp(c->camel, name, len) == 0))
            return c;
    }
    return NULL;
}

const struct field *registry_static_field(const struct class_def *c, const char *name)
{
    for (int i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i].name, name) == 0)
            return &c->fields[i];
    return NULL;
}

const struct field *registry_field(const struct class_def *c, const char *name)
{
    const struct field *f = registry_static_field(c, name);
    return f ? f : dyn_field(c, name);
}

int registry_has_column(const struct field *f)
{
    return f->type != FT_REF_ALIAS && f->type != FT_HAS_MANY && f->type != FT_MULTI;
}

int registry_is_state(const struct class_def *c, const char *s)
{
    if (!c->wf)
        return 0;
    for (const char *const *p = c->wf->states; *p; p++)
        if (strcmp(*p, s) == 0)
            return 1;
    return 0;
}

int registry_transition_ok(const struct class_def *c, const char *from, const char *to)
{
    if (!c->wf)
        return 0;
    if (from && strcmp(from, to) == 0)
        return 1; /* staying put is not a transition */
    for (int i = 0; i < c->wf->ntransitions; i++)
        if (strcmp(c->wf->transitions[i].from, from ? from : "") == 0 &&
            strcmp(c->wf->transitions[i].to, to) == 0)
            return 1;
    return 0;
}
