/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - force-included (-include) before the kernel's cached
 * tools/testing/selftests/net/tls.c when tests/ktls-selftest builds it.
 * Our code, not the kernel's; it changes no test, it only lets the
 * cached file compile.
 *
 * Debian's linux-source-6.12 (6.12.118) and linux-source-6.1 (6.1.192)
 * carry a partial backport of the upstream rekey tests: they call
 * tls_crypto_info_init(version, cipher, &keys, key_generation) while the
 * function there still takes three arguments, so the file does not
 * compile as shipped.  Upstream's four-argument version fills every key
 * byte (key, iv, salt, rec_seq) with key_generation, so that each
 * generation is a different key; the macro below calls the three-argument
 * function and then does exactly that.  With three arguments (the
 * definition and every other call) it expands to itself.
 */
#ifndef KTLS_SELFTEST_COMPAT_H
#define KTLS_SELFTEST_COMPAT_H

/* No includes: tls.c's own #define _GNU_SOURCE must come first. */
#define KTLS_CI_PICK(_1, _2, _3, _4, name, ...) name
#define tls_crypto_info_init(...) \
	KTLS_CI_PICK(__VA_ARGS__, ktls_ci_init_gen, tls_crypto_info_init, 0)(__VA_ARGS__)
#define ktls_ci_init_gen(version, cipher, keys, gen)			\
	do {								\
		tls_crypto_info_init(version, cipher, keys);		\
		__builtin_memset((char *)(keys) + sizeof(struct tls_crypto_info),	\
		       (gen), (keys)->len - sizeof(struct tls_crypto_info)); \
	} while (0)

#endif /* KTLS_SELFTEST_COMPAT_H */
