/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - strict bounded JSON reader for Intel collateral (json.c).
 * Nodes are indices into a flat array; -1 means "none".
 */
#ifndef KATLS_VERIFY_JSON_H
#define KATLS_VERIFY_JSON_H

#include "verify_int.h"

#define KV_JSON_MAX_NODES	4096
#define KV_JSON_MAX_DEPTH	16
#define KV_JSON_INT_MAX		(1LL << 53)

enum kv_json_type {
	KV_JSON_NULL, KV_JSON_FALSE, KV_JSON_TRUE, KV_JSON_NUMBER,
	KV_JSON_STRING, KV_JSON_ARRAY, KV_JSON_OBJECT,
};

struct kv_json_node {
	enum kv_json_type type;
	size_t start, end;	/* span of the value in the text */
	size_t key, keylen;	/* member name (raw) inside an object */
	size_t str, strlen;	/* string contents (raw) */
	long long num;
	unsigned int count;	/* members / elements */
	int child, next;
};

struct kv_json {
	const char *text;
	unsigned int n;
	struct kv_json_node node[KV_JSON_MAX_NODES];
};

/* Root is node 0.  NULL if the text is not one valid JSON value. */
struct kv_json *kv_json_parse(const char *text, size_t len);
void kv_json_free(struct kv_json *j);
int kv_json_get(const struct kv_json *j, int obj, const char *key);
int kv_json_index(const struct kv_json *j, int arr, unsigned int i);
bool kv_json_str_is(const struct kv_json *j, int n, const char *s);
int kv_json_int(const struct kv_json *j, int n, long long *out);
/* A string of exactly 2*len hex digits. */
int kv_json_hex(const struct kv_json *j, int n, uint8_t *out, size_t len);
int kv_json_str(const struct kv_json *j, int n, char *out, size_t outlen);

#endif /* KATLS_VERIFY_JSON_H */
