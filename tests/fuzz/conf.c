/*
 * Fuzzing: the configuration loader, conf_load() (lib/conf.c: a
 * pre-pass, libconfuse, and the validation of every value), on the
 * input written to an anonymous file.
 *
 * Properties, from conf.h: a loaded configuration holds only valid
 * values (a hostname and a domain, at least one account and one host
 * each, retry_min <= retry_max, a known rate-limit period, timeouts
 * above 0, a TLS version of 1.0 to 1.3), and conf_account_for() always
 * finds an account.  A refusal is one printable line and never quotes
 * the password.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static void
check_conf(const struct conf *c)
{
	const struct conf_account *a;
	size_t	 i, j;

	FUZZ_CHECK(c->hostname != NULL && c->domain != NULL &&
	    c->queue_dir != NULL, "hostname, domain or queue_dir missing");
	FUZZ_CHECK(c->naccounts >= 1, "no account");
	FUZZ_CHECK(c->retry_min <= c->retry_max, "retry_min > retry_max");
	FUZZ_CHECK(c->rate_limit_count == 0 || c->rate_limit_period == 60 ||
	    c->rate_limit_period == 3600 || c->rate_limit_period == 86400,
	    "rate_limit period %u", c->rate_limit_period);
	FUZZ_CHECK(c->log != CONF_LOG_FILE || c->log_file != NULL,
	    "log to a file without a name");
	for (i = 0; i < c->naliases; i++)
		FUZZ_CHECK(c->aliases[i].name != NULL &&
		    c->aliases[i].nto >= 1, "alias without targets");
	for (i = 0; i < c->naccounts; i++) {
		a = &c->accounts[i];
		FUZZ_CHECK(a->name != NULL && a->nhosts >= 1,
		    "account without a host");
		for (j = 0; j < a->nhosts; j++)
			FUZZ_CHECK(a->hosts[j].name != NULL &&
			    a->hosts[j].name[0] != '\0' &&
			    a->hosts[j].port != NULL &&
			    a->hosts[j].port[0] != '\0', "empty host or port");
		FUZZ_CHECK(a->timeout > 0, "timeout 0");
		FUZZ_CHECK(a->tls_min_version >= 10 &&
		    a->tls_min_version <= 13, "tls_min_version %d",
		    a->tls_min_version);
	}
	FUZZ_CHECK(conf_account_for(c, "") != NULL &&
	    conf_account_for(c, "alice@example.com") != NULL &&
	    conf_account_for(c, NULL) != NULL, "no account chosen");
	FUZZ_CHECK(conf_account_by_name(c, c->accounts[0].name) != NULL,
	    "first account not found by name");
}

/*
 * The value of the first line `password = "..."` (blanks aside), when
 * it is a plain string that occurs nowhere else in the file: then no
 * message has a reason to quote it.
 */
static char *
password_of(const char *text, size_t len)
{
	const char	*p, *q, *e = text + len, *at;

	for (at = text; (at = memmem(at, (size_t)(e - at), "password",
	    8)) != NULL; at += 8) {
		for (q = at; q > text && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		if (q != text && q[-1] != '\n')
			continue;
		for (p = at + 8; p < e && (*p == ' ' || *p == '\t'); p++)
			;
		if (p == e || *p++ != '=')
			continue;
		for (; p < e && (*p == ' ' || *p == '\t'); p++)
			;
		if (p == e || *p++ != '"')
			continue;
		break;
	}
	if (at == NULL ||
	    (q = memchr(p, '"', (size_t)(e - p))) == NULL || q - p < 8)
		return NULL;
	/* Escapes and ${VAR} make the value differ from its text. */
	if (memchr(p, '\0', (size_t)(q - p)) != NULL ||
	    memchr(p, '\\', (size_t)(q - p)) != NULL ||
	    memchr(p, '$', (size_t)(q - p)) != NULL ||
	    memchr(p, '\n', (size_t)(q - p)) != NULL)
		return NULL;
	if (memmem(q, (size_t)(e - q), p, (size_t)(q - p)) != NULL ||
	    memmem(text, (size_t)(p - text), p, (size_t)(q - p)) != NULL)
		return NULL;
	return fuzz_strndup((const uint8_t *)p, (size_t)(q - p));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c = NULL;
	const char	*path;
	char		 err[1024], *pw;

	path = fuzz_file(0, data, size);
	memset(err, 'x', sizeof err);
	if (conf_load(path, &c, err, sizeof err) == 0) {
		check_conf(c);
		conf_free(c);
		fuzz_log_trim();
		return 0;
	}
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL,
	    "err not terminated");
	FUZZ_CHECK(err[0] != '\0', "refused without a message");
	FUZZ_CHECK(!fuzz_has_control(err, strlen(err)),
	    "control character in: %s", err);
	if ((pw = password_of((const char *)data, size)) != NULL) {
		FUZZ_CHECK(strstr(err, pw) == NULL,
		    "the message quotes the password: %s", err);
		free(pw);
	}
	fuzz_log_trim();
	return 0;
}
