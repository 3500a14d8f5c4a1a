// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - a strict, bounded JSON reader for Intel's signed collateral.
 *
 * The collateral signatures cover the exact bytes of one member's value
 * ("tcbInfo", "enclaveIdentity"), so the reader keeps, for every value,
 * its span in the input.  It builds a flat node array (no allocation per
 * node), rejects anything RFC 8259 does not allow, limits depth and size,
 * and never reads outside the buffer.  Strings are kept raw (escapes are
 * validated, not decoded): the collateral's keys and values are ASCII.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct jp {
	const char *s;
	size_t len, pos;
	struct kv_json *j;
	unsigned int depth;
};

static void ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int new_node(struct jp *p, enum kv_json_type t)
{
	struct kv_json_node *n;

	if (p->j->n == KV_JSON_MAX_NODES)
		return -1;
	n = &p->j->node[p->j->n];
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->start = p->pos;
	n->next = n->child = -1;
	return (int)p->j->n++;
}

static bool hexch(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* A string at p->pos ('"'); sets *start and *len to the raw contents. */
static int string(struct jp *p, size_t *start, size_t *len)
{
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return -1;
	*start = ++p->pos;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c == '"') {
			*len = p->pos - *start;
			p->pos++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++p->pos >= p->len)
				return -1;
			c = (unsigned char)p->s[p->pos];
			if (c == 'u') {
				if (p->len - p->pos < 5 || !hexch(p->s[p->pos + 1]) ||
				    !hexch(p->s[p->pos + 2]) || !hexch(p->s[p->pos + 3]) ||
				    !hexch(p->s[p->pos + 4]))
					return -1;
				p->pos += 4;
			} else if (!strchr("\"\\/bfnrt", c)) {
				return -1;
			}
		}
		p->pos++;
	}
	return -1;
}

static int value(struct jp *p);

static int container(struct jp *p, bool obj)
{
	int me = new_node(p, obj ? KV_JSON_OBJECT : KV_JSON_ARRAY), last = -1;

	if (me < 0 || ++p->depth > KV_JSON_MAX_DEPTH)
		return -1;
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
		p->pos++;
		goto done;
	}
	for (;;) {
		size_t ks = 0, kl = 0;
		int child;

		ws(p);
		if (obj) {
			if (string(p, &ks, &kl) < 0)
				return -1;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return -1;
			p->pos++;
			ws(p);
		}
		child = value(p);
		if (child < 0)
			return -1;
		p->j->node[child].key = ks;
		p->j->node[child].keylen = kl;
		if (last < 0)
			p->j->node[me].child = child;
		else
			p->j->node[last].next = child;
		last = child;
		p->j->node[me].count++;
		ws(p);
		if (p->pos >= p->len)
			return -1;
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] != (obj ? '}' : ']'))
			return -1;
		p->pos++;
		break;
	}
done:
	p->depth--;
	p->j->node[me].end = p->pos;
	return me;
}

static int number(struct jp *p)
{
	int me = new_node(p, KV_JSON_NUMBER);
	bool neg = false, digits = false;
	long long v = 0;

	if (me < 0)
		return -1;
	if (p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '0') {
		p->pos++;
		digits = true;
	} else {
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
			if (v > (KV_JSON_INT_MAX - 9) / 10)
				return -1;	/* no integer we need is this big */
			v = v * 10 + (p->s[p->pos++] - '0');
			digits = true;
		}
	}
	if (!digits)
		return -1;
	/* Fractions and exponents are valid JSON but no collateral uses them. */
	if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
				p->s[p->pos] == 'E'))
		return -1;
	p->j->node[me].num = neg ? -v : v;
	p->j->node[me].end = p->pos;
	return me;
}

static int literal(struct jp *p, const char *word, enum kv_json_type t)
{
	size_t n = strlen(word);
	int me;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return -1;
	me = new_node(p, t);
	if (me < 0)
		return -1;
	p->pos += n;
	p->j->node[me].end = p->pos;
	return me;
}

static int value(struct jp *p)
{
	int me;

	if (p->pos >= p->len)
		return -1;
	switch (p->s[p->pos]) {
	case '{':
		return container(p, true);
	case '[':
		return container(p, false);
	case '"':
		me = new_node(p, KV_JSON_STRING);
		if (me < 0 || string(p, &p->j->node[me].str, &p->j->node[me].strlen) < 0)
			return -1;
		p->j->node[me].end = p->pos;
		return me;
	case 't':
		return literal(p, "true", KV_JSON_TRUE);
	case 'f':
		return literal(p, "false", KV_JSON_FALSE);
	case 'n':
		return literal(p, "null", KV_JSON_NULL);
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return number(p);
		return -1;
	}
}

struct kv_json *kv_json_parse(const char *text, size_t len)
{
	struct jp p = { text, len, 0, NULL, 0 };

	if (len > KV_MAX_FILE)
		return NULL;
	p.j = calloc(1, sizeof(*p.j));
	if (!p.j)
		return NULL;
	p.j->text = text;
	ws(&p);
	if (value(&p) != 0)
		goto fail;
	ws(&p);
	if (p.pos != len)
		goto fail;	/* trailing garbage */
	return p.j;
fail:
	free(p.j);
	return NULL;
}

void kv_json_free(struct kv_json *j)
{
	free(j);
}

int kv_json_get(const struct kv_json *j, int obj, const char *key)
{
	size_t kl = strlen(key);
	int c;

	if (obj < 0 || j->node[obj].type != KV_JSON_OBJECT)
		return -1;
	for (c = j->node[obj].child; c >= 0; c = j->node[c].next)
		if (j->node[c].keylen == kl && !memcmp(j->text + j->node[c].key, key, kl))
			return c;
	return -1;
}

int kv_json_index(const struct kv_json *j, int arr, unsigned int i)
{
	int c;

	if (arr < 0 || j->node[arr].type != KV_JSON_ARRAY)
		return -1;
	for (c = j->node[arr].child; c >= 0 && i; c = j->node[c].next)
		i--;
	return c;
}

bool kv_json_str_is(const struct kv_json *j, int n, const char *s)
{
	size_t l = strlen(s);

	return n >= 0 && j->node[n].type == KV_JSON_STRING &&
	       j->node[n].strlen == l && !memcmp(j->text + j->node[n].str, s, l);
}

int kv_json_int(const struct kv_json *j, int n, long long *out)
{
	if (n < 0 || j->node[n].type != KV_JSON_NUMBER)
		return -1;
	*out = j->node[n].num;
	return 0;
}

int kv_json_hex(const struct kv_json *j, int n, uint8_t *out, size_t len)
{
	const char *s;
	size_t i;

	if (n < 0 || j->node[n].type != KV_JSON_STRING ||
	    j->node[n].strlen != 2 * len)
		return -1;
	s = j->text + j->node[n].str;
	for (i = 0; i < 2 * len; i++)
		if (!hexch(s[i]))
			return -1;
	for (i = 0; i < len; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return 0;
}

int kv_json_str(const struct kv_json *j, int n, char *out, size_t outlen)
{
	if (n < 0 || j->node[n].type != KV_JSON_STRING ||
	    j->node[n].strlen >= outlen)
		return -1;
	memcpy(out, j->text + j->node[n].str, j->node[n].strlen);
	out[j->node[n].strlen] = '\0';
	return 0;
}
