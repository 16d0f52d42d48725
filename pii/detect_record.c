/* The region of one record for the free-text detectors: the value of the field its
 * dataset's descriptor names as its country (detect: {country_field: ...}), found on the
 * record's parsed tape. Used by ingest and by `pii scan`. */
#include "detect_int.h"
#include "pii.h"

#include <string.h>

/* The member of object obj keyed name (n bytes), or NULL. An escaped key is compared
 * decoded. */
static const struct st_jnode *member(const struct st_jtape *t, const char *line,
				     const struct st_jnode *obj, const char *name, size_t n)
{
	for (uint32_t i = obj->count ? obj->first : 0, k = 0; k < obj->count; i = t->v[i].next, k++) {
		const struct st_jnode *m = &t->v[i];
		const char *key = line + m->key_start;
		size_t klen = m->key_end - m->key_start;
		char dec[256];

		if (m->key_escaped) {
			if (klen >= sizeof(dec))
				continue;
			klen = st_json_unescape(key, klen, dec);
			key = dec;
		}
		if (klen == n && !memcmp(key, name, n))
			return m;
	}
	return NULL;
}

int pii_record_region(const struct st_jtape *t, const char *line, const char *path, char out[3])
{
	const struct st_jnode *v = &t->v[0];
	const char *text;
	size_t len;
	char dec[32];

	out[0] = '\0';
	for (;;) {
		size_t k = strcspn(path, ".");

		if (v->type != ST_J_OBJ || !(v = member(t, line, v, path, k)))
			return 0;
		if (!path[k])
			break;
		path += k + 1;
	}
	if (v->type != ST_J_STR)
		return 0;
	text = line + v->start + 1;
	len = v->end - v->start - 2;
	if (v->escaped) {
		if (len >= sizeof(dec))
			return 0;
		len = st_json_unescape(text, len, dec);
		text = dec;
	}
	if (pii_region_code(text, len, out)) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}
