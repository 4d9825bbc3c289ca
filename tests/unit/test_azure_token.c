/* Unit tests for server/outbound/azure_token.c: the certificate client
 * assertion (header, claims, RS256 signature checked with the certificate's
 * public key) and the precedence of the worker's credentials. The key and
 * the certificate are made here with OpenSSL. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/common/config.h"
#include "server/common/util.h"
#include "server/outbound/azure_token.h"

#define CLIENT_ID "00000000-0000-0000-0000-0000000000c1"
#define TOKEN_URL "http://127.0.0.1:28090/tenant-x/oauth2/v2.0/token"

static EVP_PKEY *make_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	cr_assert_not_null(k);
	return k;
}

/* A self-signed certificate for `key`. */
static X509 *make_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	cr_assert_not_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	cr_assert(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* Writes key and certificate (in that order, or the certificate first) to
 * a temporary PEM file; returns its path (heap). */
static char *write_pem(EVP_PKEY *key, X509 *cert, bool cert_first)
{
	char tmpl[] = "/tmp/atrium-azcert-XXXXXX";
	int fd = mkstemp(tmpl);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_not_null(f);
	if (cert_first)
		PEM_write_X509(f, cert);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (!cert_first)
		PEM_write_X509(f, cert);
	fclose(f);
	return strdup(tmpl);
}

static json_t *decode_part(const char *p, size_t n)
{
	size_t len = 0;
	unsigned char *raw = util_b64url_decode(p, n, &len);
	cr_assert_not_null(raw, "a part is base64url");
	json_error_t e;
	json_t *j = json_loadb((const char *)raw, len, 0, &e);
	free(raw);
	cr_assert_not_null(j, "a part is JSON: %s", e.text);
	return j;
}

static void check_assertion(const char *jwt, X509 *cert, int64_t now)
{
	const char *d1 = strchr(jwt, '.');
	cr_assert_not_null(d1);
	const char *d2 = strchr(d1 + 1, '.');
	cr_assert_not_null(d2);
	cr_assert_null(strchr(d2 + 1, '.'), "three parts");

	json_t *h = decode_part(jwt, (size_t)(d1 - jwt));
	cr_assert_str_eq(json_string_value(json_object_get(h, "alg")), "RS256");
	cr_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	cr_assert(X509_digest(cert, EVP_sha256(), md, &mdlen));
	char *want = util_b64url_encode(md, mdlen);
	cr_assert_str_eq(json_string_value(json_object_get(h, "x5t#S256")), want,
			 "x5t#S256 is the certificate's SHA-256 thumbprint");
	free(want);
	cr_assert_eq(json_object_size(h), 3);
	json_decref(h);

	json_t *c = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
	cr_assert_str_eq(json_string_value(json_object_get(c, "aud")), TOKEN_URL);
	cr_assert_str_eq(json_string_value(json_object_get(c, "iss")), CLIENT_ID);
	cr_assert_str_eq(json_string_value(json_object_get(c, "sub")), CLIENT_ID);
	cr_assert(util_is_uuid(json_string_value(json_object_get(c, "jti"))));
	json_int_t nbf = json_integer_value(json_object_get(c, "nbf"));
	json_int_t iat = json_integer_value(json_object_get(c, "iat"));
	json_int_t exp = json_integer_value(json_object_get(c, "exp"));
	cr_assert_eq(nbf, now);
	cr_assert_eq(iat, now);
	cr_assert_eq(exp - nbf, 600, "exp - nbf = 600 s");
	json_decref(c);

	size_t siglen = 0;
	unsigned char *sig = util_b64url_decode(d2 + 1, strlen(d2 + 1), &siglen);
	cr_assert_not_null(sig);
	cr_assert_eq(siglen, 256, "RS256 with a 2048-bit key");
	EVP_MD_CTX *v = EVP_MD_CTX_new();
	cr_assert(EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1);
	cr_assert_eq(EVP_DigestVerify(v, sig, siglen, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1,
		     "the signature verifies with the certificate's public key");
	EVP_MD_CTX_free(v);
	free(sig);
}

Test(azure_token, certificate_assertion_is_a_signed_jwt_with_the_thumbprint)
{
	EVP_PKEY *key = make_key();
	X509 *cert = make_cert(key, "atrium-worker");
	for (int order = 0; order < 2; order++) {
		char *path = write_pem(key, cert, order == 1);
		char *jwt = NULL, err[256] = "";
		bool unreadable = true;
		int64_t now = util_now_s();
		cr_assert(azure_token_cert_assertion(path, CLIENT_ID, TOKEN_URL, now, &jwt, err,
						     sizeof(err), &unreadable),
			  "%s", err);
		cr_assert_not(unreadable);
		check_assertion(jwt, cert, now);
		/* two assertions differ (jti) */
		char *jwt2 = NULL;
		cr_assert(azure_token_cert_assertion(path, CLIENT_ID, TOKEN_URL, now, &jwt2, err,
						     sizeof(err), &unreadable));
		cr_assert_str_neq(jwt, jwt2);
		free(jwt);
		free(jwt2);
		unlink(path);
		free(path);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
}

Test(azure_token, certificate_of_another_key_or_no_file_is_refused)
{
	EVP_PKEY *key = make_key(), *other = make_key();
	X509 *cert = make_cert(other, "someone-else");
	char *path = write_pem(key, cert, false);
	char *jwt = NULL, err[256] = "";
	bool unreadable = true;
	cr_assert_not(azure_token_cert_assertion(path, CLIENT_ID, TOKEN_URL, util_now_s(), &jwt, err,
						 sizeof(err), &unreadable));
	cr_assert_null(jwt);
	cr_assert_not(unreadable, "a mismatch is not worth retrying");
	cr_assert_not_null(strstr(err, "does not match"), "%s", err);
	unlink(path);
	free(path);

	cr_assert_not(azure_token_cert_assertion("/nonexistent/atrium.pem", CLIENT_ID, TOKEN_URL,
						 util_now_s(), &jwt, err, sizeof(err), &unreadable));
	cr_assert(unreadable);

	/* a certificate alone, without the key */
	char tmpl[] = "/tmp/atrium-azcert-XXXXXX";
	FILE *f = fdopen(mkstemp(tmpl), "w");
	PEM_write_X509(f, cert);
	fclose(f);
	cr_assert_not(azure_token_cert_assertion(tmpl, CLIENT_ID, TOKEN_URL, util_now_s(), &jwt, err,
						 sizeof(err), &unreadable));
	cr_assert_not(unreadable);
	unlink(tmpl);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

Test(azure_token, federated_file_then_certificate_then_secret)
{
	struct config saved = cfg;
	cfg.azure_federated_token_file = NULL;
	cfg.azure_client_certificate = NULL;
	cfg.azure_client_secret = NULL;
	cr_assert_eq(azure_token_credential(), AZURE_CRED_NONE);
	cfg.azure_client_secret = "s";
	cr_assert_eq(azure_token_credential(), AZURE_CRED_SECRET);
	cfg.azure_client_certificate = "/x.pem";
	cr_assert_eq(azure_token_credential(), AZURE_CRED_CERTIFICATE);
	cfg.azure_federated_token_file = "/var/run/secrets/azure/tokens/azure-identity-token";
	cr_assert_eq(azure_token_credential(), AZURE_CRED_FEDERATED);
	cr_assert_str_eq(azure_credential_name(AZURE_CRED_FEDERATED), "federated token file");
	cr_assert_str_eq(azure_credential_name(AZURE_CRED_CERTIFICATE), "client certificate");
	cr_assert_str_eq(azure_credential_name(AZURE_CRED_SECRET), "client secret");
	cfg = saved;
}
