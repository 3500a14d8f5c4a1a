// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the JSON reader and the TDX TCB Info / QE Identity
 * evaluation, with the SPR E4 sample quote's TCB values.  The input is
 * used as TCB Info and as QE Identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <katls/verify.h>
#include "json.h"
#include "verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t quote[8192];
static struct kv_sgx_ext ext;
static struct kv_tdx_tcb_in in;

static void setup(void)
{
	FILE *f = fopen(KATLS_EVIDENCE_DIR "/tdx/gtdx_v4_spr_e4_quote.dat", "rb");
	gnutls_x509_crt_t *list = NULL;
	unsigned int n = 0, i;
	gnutls_datum_t d;
	size_t len;
	uint8_t *pem;

	if (!f)
		abort();
	len = fread(quote, 1, sizeof(quote), f);
	fclose(f);
	pem = memmem(quote, len, "-----BEGIN", 10);
	if (!pem)
		abort();
	d.data = pem;
	d.size = (unsigned int)(len - (size_t)(pem - quote));
	if (gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0) < 0 ||
	    !n || kv_sgx_ext_parse(list[0], &ext) < 0)
		abort();
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	in.tee_tcb_svn = quote + 0x30;
	in.mrsignerseam = quote + 0x70;
	in.qe_report = quote + 0x302;
	in.ext = &ext;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct katls_claims c;
	static struct katls_verdict v;
	struct kv_json *j;

	if (!in.ext)
		setup();
	j = kv_json_parse((const char *)data, size);
	if (j) {
		for (unsigned int i = 0; i < j->n; i++)	/* spans stay inside */
			if (j->node[i].end > size || j->node[i].start > j->node[i].end)
				__builtin_trap();
		kv_json_free(j);
	}
	memset(&c, 0, sizeof(c));
	katls_verdict_init(&v);
	if (kv_tdx_tcb_eval((const char *)data, size, (const char *)data, size,
			    &in, &c, &v) == 0 && !c.tcb_status[0])
		__builtin_trap();	/* success always names a status */
	return 0;
}
