/*
 * tls: TLS client over OpenSSL.  See tls.h.
 *
 * The verification mode is SSL_VERIFY_NONE on purpose: OpenSSL still
 * verifies the chain and the name set with SSL_set1_host() and records
 * the result, which we read after the handshake.  That lets the caller
 * report the certificate it refused (subject, issuer, fingerprint) and
 * lets opportunistic TLS without credentials go on unverified.  Nothing
 * is sent over a connection before the caller has decided.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "stream.h"
#include "tls.h"
#include "util.h"

struct tls {
	SSL_CTX	*ctx;
	SSL	*ssl;
};

static void
tls_errstr(const char *what, char *err, size_t errlen)
{
	unsigned long	 e;
	char		 ebuf[256];

	e = ERR_peek_last_error();
	if (e != 0) {
		ERR_error_string_n(e, ebuf, sizeof ebuf);
		snprintf(err, errlen, "%s: %s", what, ebuf);
	} else if (errno != 0)
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
	else
		snprintf(err, errlen, "%s: connection closed by peer", what);
	ERR_clear_error();
}

static int
tls_version_const(int v)
{
	switch (v) {
	case 10:
		return TLS1_VERSION;
	case 11:
		return TLS1_1_VERSION;
	case 13:
		return TLS1_3_VERSION;
	default:
		return TLS1_2_VERSION;
	}
}

static bool
tls_is_ip(const char *name)
{
	unsigned char	 addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1;
}

static void
tls_name_str(X509_NAME *name, char *dst, size_t len)
{
	BIO	*bio;
	int	 n;

	dst[0] = '\0';
	if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, dst, (int)len - 1);
		dst[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

static void
tls_fill_cert_info(X509 *cert, struct tls_info *info)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	size_t		 off;
	BIO		*bio;
	int		 n;

	tls_name_str(X509_get_subject_name(cert), info->subject,
	    sizeof info->subject);
	tls_name_str(X509_get_issuer_name(cert), info->issuer,
	    sizeof info->issuer);
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
			n = BIO_read(bio, info->not_after,
			    (int)sizeof info->not_after - 1);
			info->not_after[n > 0 ? n : 0] = '\0';
		}
		BIO_free(bio);
	}
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		off = (size_t)snprintf(info->fingerprint,
		    sizeof info->fingerprint, "sha256:");
		for (i = 0; i < mdlen && off + 3 < sizeof info->fingerprint;
		    i++)
			off += (size_t)snprintf(info->fingerprint + off,
			    sizeof info->fingerprint - off, "%s%02X",
			    i ? ":" : "", md[i]);
	}
}

/* Decide whether the peer is who we wanted; fills verified/verify_error. */
static void
tls_check_peer(struct tls *t, const struct tls_params *p, X509 *cert,
    struct tls_info *info)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	long		 vr;

	info->verified = false;
	if (cert == NULL) {
		snprintf(info->verify_error, sizeof info->verify_error,
		    "server sent no certificate");
		return;
	}
	if (p->fingerprint != NULL) {
		if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 &&
		    mdlen == 32 && crypto_memeq(md, p->fingerprint, 32))
			info->verified = true;
		else
			snprintf(info->verify_error, sizeof info->verify_error,
			    "certificate fingerprint does not match "
			    "tls_fingerprint");
		return;
	}
	vr = SSL_get_verify_result(t->ssl);
	if (vr == X509_V_OK) {
		info->verified = true;
		return;
	}
	snprintf(info->verify_error, sizeof info->verify_error, "%s",
	    X509_verify_cert_error_string(vr));
}

/* What the server's certificate is checked against: tls_ca_file, or
 * the system store; nothing when it is not verified or a fingerprint
 * pins it.  0, or -1 with err. */
static int
tls_load_trust(SSL_CTX *ctx, const struct tls_params *p, char *err,
    size_t errlen)
{
	if (p->verify && p->fingerprint == NULL) {
		if (p->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, p->ca_file,
			    NULL) != 1) {
				tls_errstr(p->ca_file, err, errlen);
				return -1;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			tls_errstr("system certificate store", err, errlen);
			return -1;
		}
	}
	return 0;
}

/* Our own certificate chain and its key, when one is configured.
 * 0, or -1 with err. */
static int
tls_load_cert(SSL_CTX *ctx, const struct tls_params *p, char *err,
    size_t errlen)
{
	if (p->cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    p->cert_file) != 1) {
			tls_errstr(p->cert_file, err, errlen);
			return -1;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, p->key_file,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			tls_errstr(p->key_file, err, errlen);
			return -1;
		}
	}
	return 0;
}

/* The name the certificate must carry: an IP address as such, else a
 * host name, also sent as SNI, without partial wildcards.  0, or -1
 * with err. */
static int
tls_set_name(SSL *ssl, const struct tls_params *p, char *err,
    size_t errlen)
{
	X509_VERIFY_PARAM	*vp;

	if (tls_is_ip(p->servername)) {
		vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, p->servername) != 1) {
			tls_errstr("IP address check", err, errlen);
			return -1;
		}
	} else {
		if (SSL_set_tlsext_host_name(ssl, p->servername) != 1 ||
		    SSL_set1_host(ssl, p->servername) != 1) {
			tls_errstr("server name", err, errlen);
			return -1;
		}
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	return 0;
}

static int
tls_setup(struct tls *t, const struct tls_params *p, char *err,
    size_t errlen)
{
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_errstr("SSL_CTX_new", err, errlen);
		return -1;
	}
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_set_min_proto_version(t->ctx,
	    tls_version_const(p->min_version)) != 1) {
		tls_errstr("tls_min_version", err, errlen);
		return -1;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (tls_load_trust(t->ctx, p, err, errlen) == -1 ||
	    tls_load_cert(t->ctx, p, err, errlen) == -1)
		return -1;
	if ((t->ssl = SSL_new(t->ctx)) == NULL) {
		tls_errstr("SSL_new", err, errlen);
		return -1;
	}
	return tls_set_name(t->ssl, p, err, errlen);
}

struct tls *
tls_start(int fd, const struct tls_params *p, int timeout_ms,
    struct tls_info *info, char *err, size_t errlen)
{
	struct tls	*t;
	long long	 deadline = util_monotonic_ms() + timeout_ms;
	X509		*cert;
	int		 r, e;

	memset(info, 0, sizeof *info);
	ERR_clear_error();
	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (tls_setup(t, p, err, errlen) == -1)
		goto fail;
	if (SSL_set_fd(t->ssl, fd) != 1) {
		tls_errstr("SSL_set_fd", err, errlen);
		goto fail;
	}
	for (;;) {
		errno = 0;
		r = SSL_connect(t->ssl);
		if (r == 1)
			break;
		e = SSL_get_error(t->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tls_errstr("TLS handshake failed", err, errlen);
			goto fail;
		}
		if (stream_wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline) == -1) {
			if (errno == ETIMEDOUT)
				snprintf(err, errlen, "TLS handshake timed out");
			else
				snprintf(err, errlen, "poll: %s",
				    strerror(errno));
			goto fail;
		}
	}
	snprintf(info->version, sizeof info->version, "%s",
	    SSL_get_version(t->ssl));
	snprintf(info->cipher, sizeof info->cipher, "%s",
	    SSL_get_cipher_name(t->ssl));
	cert = SSL_get1_peer_certificate(t->ssl);
	if (cert != NULL)
		tls_fill_cert_info(cert, info);
	if (p->verify || p->fingerprint != NULL)
		tls_check_peer(t, p, cert, info);
	else
		snprintf(info->verify_error, sizeof info->verify_error,
		    "verification disabled (tls_verify = false)");
	X509_free(cert);
	return t;
fail:
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}

static ssize_t
tls_io_result(struct tls *t, int r, size_t done, short *want, char *err,
    size_t errlen, const char *what)
{
	int	 e;

	*want = 0;
	if (r == 1)
		return (ssize_t)done;
	e = SSL_get_error(t->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 && ERR_peek_error() == 0)
			return 0;
		/* FALLTHROUGH */
	default:
		tls_errstr(what, err, errlen);
		return -1;
	}
}

/* Before an SSL_read_ex or SSL_write_ex: nothing left from the last. */
static struct tls *
tls_io_begin(void *ctx)
{
	ERR_clear_error();
	errno = 0;
	return ctx;
}

static ssize_t
tls_read(void *ctx, void *data, size_t len, short *want, char *err,
    size_t errlen)
{
	struct tls	*t = tls_io_begin(ctx);
	size_t		 done = 0;
	int		 r = SSL_read_ex(t->ssl, data, len, &done);

	return tls_io_result(t, r, done, want, err, errlen, "TLS read");
}

static ssize_t
tls_write(void *ctx, const void *data, size_t len, short *want, char *err,
    size_t errlen)
{
	struct tls	*t = tls_io_begin(ctx);
	size_t		 done = 0;
	int		 r = SSL_write_ex(t->ssl, data, len, &done);

	return tls_io_result(t, r, done, want, err, errlen, "TLS write");
}

static size_t
tls_pending(void *ctx)
{
	struct tls	*t = ctx;

	return (size_t)SSL_pending(t->ssl);
}

static void
tls_close(void *ctx)
{
	struct tls	*t = ctx;

	/* Best effort: the socket is non-blocking and may be gone. */
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	tls_free(t);
}

const struct stream_ops tls_stream_ops = {
	tls_read, tls_write, tls_pending, tls_close
};
