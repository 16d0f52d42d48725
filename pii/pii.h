/* steward's PII library: the keyring, keyed pseudonyms, normalizers, transforms and
 * detectors for free text. It never prints or exits; errors go to struct st_error, and
 * neither errors nor any other output ever carry key material or the values hashed. */
#ifndef PII_H
#define PII_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* ---- Normalizers (normalize.c) ------------------------------------------------------ */

enum pii_norm { PII_NORM_NONE, PII_NORM_EMAIL, PII_NORM_PHONE, PII_NORM_IP };

#define PII_NORM_MAX 256 /* longest normalized value, in bytes, NUL included */

/* Parses a normalizer name ("email", "phone", "ip", or "none"); returns -1 if unknown. */
int pii_norm_parse(const char *name);
/* The normalizer a category implies when a field declares none: email, phone and IP
 * categories normalize, so one address gives one pseudonym wherever it is found. */
int pii_norm_for_category(const char *category);
/* Writes the canonical form of len bytes of value into out (PII_NORM_MAX bytes):
 * email: ASCII white space trimmed and ASCII letters lowercased; phone: E.164, with
 * country_code (digits, e.g. "82") for numbers written without one; ip: canonical IPv4
 * or RFC 5952 IPv6 text (IPv4-mapped IPv6 becomes IPv4). Returns the length, or -1 when
 * the value is not of that kind (out is then undefined). */
int pii_normalize(int norm, const char *value, size_t len, const char *country_code,
		  char *out);
#define PII_SUBJECT_MAX (PII_NORM_MAX - 1) /* longest subject value, in bytes */
/* The one check of a subject value typed or piped in (a request's subject, a value to
 * look up): len bytes of valid UTF-8, 1 to PII_SUBJECT_MAX of them, with no NUL and no
 * control character (C0, DEL, C1), so that a stray byte can never give another person's
 * pseudonym. Returns 0, or -1 with err (ST_E_INVALID) saying what is wrong and at which
 * byte, never the value. */
int pii_subject_check(const char *value, size_t len, struct st_error *err);
/* What a normalizer takes, for messages: "e-mail address", "phone number", "IP address"
 * (or "value" for PII_NORM_NONE). */
const char *pii_norm_noun(int norm);
/* The ITU calling code for an ISO 3166 alpha-2 country ("KR" -> "82"), or NULL. */
const char *pii_country_calling_code(const char *iso2);

/* ---- Detectors for free text (detect.c) --------------------------------------------- */

enum pii_kind { PII_EMAIL, PII_PHONE, PII_CARD, PII_IP, PII_IBAN, PII_SSN, PII_KRRN,
		PII_URL_CRED, PII_KIND_COUNT };

/* What decided a finding (struct pii_match's evidence, bits). */
#define PII_EV_PATTERN 0x01u  /* the shape: groups, lengths, issuer ranges */
#define PII_EV_CHECKSUM 0x02u /* Luhn, mod-97, the RRN check digit */
#define PII_EV_DATE 0x04u     /* a real date of birth (RRN) */
#define PII_EV_PHONELIB 0x08u /* libphonenumber: valid in a region's numbering plan */
#define PII_EV_CONTEXT 0x10u  /* a context word for the type nearby */
#define PII_EV_NEGCTX 0x20u   /* a context word against it ("version", "ISBN", "SKU") */

/* Findings scored under this (0-100) are not replaced, unless the dataset's descriptor sets
 * its own threshold (detect: {threshold: N}): see docs/ingest.md. */
#define PII_SCORE_THRESHOLD 50

/* The longest list of regions pii_detect_regions() makes, NUL included: 32 declared regions
 * and the default list. */
#define PII_REGIONS_LEN 128

/* What the detectors are told of where a text comes from. */
struct pii_detect_opts {
	int min_score;       /* findings scored under it are left out; 0: PII_SCORE_THRESHOLD */
	const char *regions; /* the regions a phone number written without its country code is
			      * tried in, as pii_detect_regions() makes them; NULL: the default
			      * list, pii_builtin_regions() */
	char region[3];      /* one more region, tried first: the record's own (its country
			      * field), ISO 3166 alpha-2; "": none */
};

struct pii_match {
	int kind;            /* enum pii_kind */
	size_t start, end;   /* byte offsets: text[start, end) */
	int score;           /* confidence, 0-100 */
	unsigned evidence;   /* PII_EV_* bits */
};

/* The short name of a kind ("email", "card", ...), used in typed pseudonyms. */
const char *pii_kind_name(int kind);
/* The data category a detected kind is pseudonymized under (user.contact.email, ...). */
const char *pii_kind_category(int kind);
/* The name of one PII_EV_* bit ("checksum", "context word", ...), or NULL. */
const char *pii_evidence_name(unsigned bit);
/* Finds PII in len bytes of UTF-8 text: e-mail addresses, URL credentials (the user
 * information of "https://user:pw@host"), phone numbers (libphonenumber, for the default
 * regions), card numbers (issuer ranges, Luhn), IPv4 and IPv6 addresses, IBANs
 * (length per country, mod-97), US SSNs and Korean resident registration numbers (date,
 * check digit). Each finding covers the whole value (digit groups included) and has a
 * score; those under min_score are left out. Matches do not overlap and come in text
 * order. Stores at most max of them in out and returns how many were found in all (which
 * may be more than max). */
size_t pii_detect_scored(const char *text, size_t len, int min_score, struct pii_match *out,
			 size_t max);
/* pii_detect_scored() at PII_SCORE_THRESHOLD: what ingest replaces. */
size_t pii_detect(const char *text, size_t len, struct pii_match *out, size_t max);
/* pii_detect_scored() with a dataset's settings o (NULL: the defaults): its threshold, its
 * phone regions and the record's region. */
size_t pii_detect_with(const char *text, size_t len, const struct pii_detect_opts *o,
		       struct pii_match *out, size_t max);
/* The regions tried for national phone numbers when a dataset declares none: ISO 3166
 * alpha-2 codes separated by ',' ("US,GB,DE,FR,MX,BR,KR,JP"). Static. */
const char *pii_builtin_regions(void);
/* The region of n bytes of s: an ISO 3166 alpha-2 code in any case ("AT", "at") or a
 * locale ("de_AT", "de-AT", "gsw_CH", "de_AT.UTF-8"), upper case, into out. Returns 0, or
 * -1 when s is neither (whether the code is assigned is not checked). */
int pii_region_code(const char *s, size_t n, char out[3]);
/* The regions list of a dataset into out (n bytes, PII_REGIONS_LEN is enough for 32
 * declared ones): declared (codes or locales separated by ',', NULL: none) first, then the
 * workspace's (pii.default_country; NULL, or not a region: none), then the built-in list,
 * each once. Returns 0, or -1 when a declared entry is no region or out is too small. */
int pii_detect_regions(const char *declared, const char *workspace, char *out, size_t n);
/* Returns a new NUL-terminated copy of len bytes of text (free with st_free()) with every
 * detected value replaced by its kind in angle brackets ("<email>"), and sets *found to the
 * number replaced; returns NULL with *found 0 when nothing is found, NULL with *found
 * non-zero on out of memory. No key is needed and nothing of the value is kept. */
char *pii_redact(const char *text, size_t len, size_t *found);

/* A field rule of the detectors: a field whose name and type say it holds personal data. */
struct pii_field_rule {
	const char *rule;     /* "email", "phone", ... */
	const char *cls;      /* the class it implies: "direct", "indirect" or "sensitive" */
	const char *category; /* a taxonomy key */
};
/* The rule a field named name (the last element of a dotted path is what counts; case, '_',
 * '-' and spaces are ignored) of type type (NULL: unknown, which any rule accepts) matches,
 * or NULL. The rules are names such as email, phone_number, ip_address, first_name,
 * date_of_birth, with the types that can hold them (text; a date for a birth date). */
const struct pii_field_rule *pii_field_rule_match(const char *name, const char *type);
/* Single-value checks, exposed for tests and for `pii scan`. Each returns 1 or 0. */
int pii_luhn_ok(const char *digits, size_t n);
int pii_iban_ok(const char *s, size_t n);
int pii_krrn_ok(const char *s, size_t n);

/* ---- Transforms (transform.c) ------------------------------------------------------- */

enum pii_transform { PII_T_KEEP, PII_T_HASH, PII_T_DROP, PII_T_MASK, PII_T_TRUNCATE };

/* Parses a transform name; returns -1 if unknown. */
int pii_transform_parse(const char *name);
/* mask: keeps the last 4 characters (UTF-8 aware) and writes '*' for each other one; a
 * value shorter than 8 characters is masked whole, since 4 of them would say too much.
 * Writes at most outn bytes (NUL included). Returns the length, or -1 if it does not fit. */
int pii_mask(const char *value, size_t len, char *out, size_t outn);

enum pii_truncate_kind { PII_TRUNC_DATE, PII_TRUNC_IP, PII_TRUNC_COORD };

/* truncate: a date or timestamp to its year ("1987-05-12" -> "1987"), an IPv4 address to
 * its /24 and an IPv6 address to its /48 ("1.2.3.0/24", "2001:db8:1::/48"), a coordinate
 * to 2 decimals, cut not rounded ("37.56789" -> "37.56"). Returns the length written to
 * out (outn bytes, NUL included), or -1 when the value is not of that kind. */
int pii_truncate(int kind, const char *value, size_t len, char *out, size_t outn);

/* ---- Keyring (keys.c) --------------------------------------------------------------- */

#define PII_KEY_BYTES 32
#define PII_KEY_ID_MAX 16

enum pii_key_status { PII_KEY_CURRENT, PII_KEY_PREVIOUS, PII_KEY_RETIRED };

struct pii_key {
	char id[PII_KEY_ID_MAX]; /* "k1", "k2", ... */
	int version;
	int status;
	char created[32];        /* UTC, ISO 8601 */
	unsigned char *secret;   /* sodium_malloc'd and read-only; NULL unless loaded */
};

struct pii_keyring {
	char *dir;
	struct pii_key *keys;
	size_t n, cap;
};

/* Creates the key directory dir (mode 0700) and the first key, k1. Fails if a keyring is
 * already there. Returns 0, or -1 with err. */
int pii_keyring_create(const char *dir, struct st_error *err);
/* Reads the keyring in dir. With load_secrets, reads every key that is not retired into
 * guarded memory; key files must be regular files, not symlinks, owned by this user and
 * not readable or writable by group or others, or they are refused (ST_E_DENIED) with the
 * reason. Returns 0 (release kr with pii_keyring_release() in every case), or -1. */
int pii_keyring_open(struct pii_keyring *kr, const char *dir, int load_secrets,
		     struct st_error *err);
/* Makes a new current key; the old current one stays for look-ups (previous). Writes the
 * new id into new_id. Returns 0, or -1 with err; on error the keyring file is unchanged. */
int pii_keyring_rotate(struct pii_keyring *kr, char *new_id, size_t n, struct st_error *err);
/* Retires a previous key: its secret is overwritten and deleted, and pseudonyms under it
 * can no longer be computed. The current key cannot be retired. Returns 0, or -1. */
int pii_keyring_retire(struct pii_keyring *kr, const char *id, struct st_error *err);
/* The current key, or NULL. */
const struct pii_key *pii_keyring_current(const struct pii_keyring *kr);
/* The key with this id, or NULL. */
const struct pii_key *pii_keyring_find(const struct pii_keyring *kr, const char *id);
/* Wipes and frees every secret and the list. */
void pii_keyring_release(struct pii_keyring *kr);
/* The name of a status ("current", "previous", "retired"). */
const char *pii_key_status_name(int status);

/* ---- Pseudonyms (pseudo.c) ---------------------------------------------------------- */

#define PII_TAG_BYTES 18      /* 144 bits */
#define PII_PSEUDONYM_MAX 48  /* "k123:" + 24 characters, NUL included, with room */

struct pii_pseudonymizer;

/* Prepares a pseudonymizer for key (which must have its secret loaded). Subkeys are derived per
 * category on first use and kept in guarded memory. Free with pii_pseudonymizer_free(). Returns
 * 0, or -1 with err. */
int pii_pseudonymizer_new(struct pii_pseudonymizer **out, const struct pii_key *key, struct st_error *err);
/* Computes the pseudonym of an already normalized value under category: "k1:" and the
 * unpadded base64url encoding of BLAKE2b-144 keyed with the category's subkey (see
 * docs/pseudonyms.md). Writes it to out (PII_PSEUDONYM_MAX bytes). Returns its length, or
 * -1 with err (out of memory). */
int pii_pseudonym(struct pii_pseudonymizer *h, const char *category, const char *value, size_t len,
		  char *out, struct st_error *err);
/* Wipes the subkeys and frees the pseudonymizer. NULL is fine. */
void pii_pseudonymizer_free(struct pii_pseudonymizer *h);

#define PII_NOT_OF_KIND (-2)
/* The one way a raw value becomes a pseudonym: normalizes len bytes of value with norm
 * (PII_NORM_NONE: taken as it is; country_code as for pii_normalize()), then computes its
 * pseudonym under category with h into out (PII_PSEUDONYM_MAX bytes). The normalized copy
 * is wiped before returning. Returns the pseudonym's length; PII_NOT_OF_KIND when the value
 * is not of norm's kind (nothing written, err untouched); or -1 with err. */
int pii_pseudonymize(struct pii_pseudonymizer *h, int norm, const char *category, const char *value,
		     size_t len, const char *country_code, char *out, struct st_error *err);

#define PII_PSEUDONYMIZERS_MAX 16
/* One pseudonymizer per live key (not retired, secret loaded): v[0] is the current key's. */
struct pii_pseudonymizers {
	struct pii_pseudonymizer *v[PII_PSEUDONYMIZERS_MAX];
	size_t n;
};
/* Prepares hs for the live keys of kr, the current key's first, at most PII_PSEUDONYMIZERS_MAX.
 * Returns 0, or -1 with err (ST_E_NOTFOUND when kr has no current key with its secret).
 * Release hs with pii_pseudonymizers_release() in every case. */
int pii_pseudonymizers_init(struct pii_pseudonymizers *hs, const struct pii_keyring *kr, struct st_error *err);
/* Frees the pseudonymizers (wiping their subkeys) and empties hs. */
void pii_pseudonymizers_release(struct pii_pseudonymizers *hs);
/* A data subject's pseudonyms, as a request records them: len bytes of value (of category,
 * normalized as the category implies; country_code as for pii_normalize()) under every live
 * key of kr, the current key's first, into out (at most max). Sets *n. Returns 0, or -1
 * with err (ST_E_INVALID "the subject is not a valid e-mail address", never the value). */
int pii_subject_pseudonyms(const struct pii_keyring *kr, const char *category, const char *value,
			   size_t len, const char *country_code, char out[][PII_PSEUDONYM_MAX],
			   size_t max, size_t *n, struct st_error *err);

#endif
