/* Site settings (`grantd config`): text values with built-in defaults, checked on write. */
#ifndef GRANTD_SETTINGS_H
#define GRANTD_SETTINGS_H

#include <stddef.h>

struct store_conn;

struct setting_def {
    const char *key;
    const char *def;
    const char *help;
    int (*check)(const char *value); /* 0 when acceptable */
};
extern const struct setting_def settings_table[];
const struct setting_def *settings_def(const char *key);
/* Copies the value (or the default) into out; -1 when the key is unknown. */
int settings_get(struct store_conn *db, const char *key, char *out, size_t outlen);
int settings_set(struct store_conn *db, const char *key, const char *value, char *err,
                 size_t errlen);
long long settings_int(struct store_conn *db, const char *key);

#endif
