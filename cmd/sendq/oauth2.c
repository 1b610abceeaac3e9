/*
 * sendq oauth2 login: obtains an account's refresh token once and
 * writes the token file (lib/oauth2.c), with the device authorization
 * grant (RFC 8628) when the provider has a device endpoint, else the
 * authorization code grant with PKCE (RFC 7636) and a loopback redirect
 * to 127.0.0.1 (RFC 8252), or, with --no-browser, the redirected
 * address pasted on standard input.
 *
 * Run as root or as the user sendq: the token file is that user's.
 * Exit: 0 saved; 64 usage or no such account; 77 not root or sendq;
 * 78 the account has no oauth2_provider; 69 the provider refused
 * (access_denied, expired_token, invalid_client, ...) or gave no
 * refresh token; 75 the provider could not be reached; 73 the token
 * file could not be written.
 *
 * Security: the user code and the URLs are printed, being what the user
 * needs; the device code, the authorization code, the verifier and the
 * tokens never are.  The loopback listener binds 127.0.0.1 only, answers
 * only the request that carries our state, gives each connection
 * LOGIN_CONN_MS for its request line, and gives up after LOGIN_WAIT
 * seconds.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "login.h"
#include "oauth2.h"
#include "secret.h"
#include "stream.h"
#include "util.h"

#define LOGIN_WAIT	600	/* seconds for the user to sign in */
#define LOGIN_LINE_MAX	8192	/* a request line, a pasted address */
#define LOGIN_CONN_MS	3000	/* for one connection's request line */

static int
login_exit(enum oauth2_status st)
{
	switch (st) {
	case OAUTH2_OK:
		return EX_OK;
	case OAUTH2_TEMP:
		return EX_TEMPFAIL;
	case OAUTH2_LOCAL:
		return EX_OSERR;
	default:
		return EX_UNAVAILABLE;
	}
}

static void
login_sleep(long long ms)
{
	while (ms > 0) {
		long long	 t0 = util_monotonic_ms();

		(void)poll(NULL, 0, (int)(ms > 60000 ? 60000 : ms));
		ms -= util_monotonic_ms() - t0;
	}
}

/* RFC 8628 section 3.5: poll at the interval, 5 s slower after
 * slow_down, until a token, an error or the code's end; a temporary
 * failure (network, 5xx) is said and the polling goes on. */
static enum oauth2_status
login_device_wait(const struct conf_account *a,
    const struct oauth2_endpoints *e, const struct oauth2_reply *d,
    struct oauth2_reply *tok)
{
	long long		 interval = d->interval > 0 ? d->interval : 5;
	long long		 end = util_monotonic_ms() +
	    (d->expires_in > 0 ? d->expires_in : 900) * 1000;
	enum oauth2_status	 st;

	for (;;) {
		login_sleep(interval * 1000);
		if (util_monotonic_ms() >= end) {
			memset(tok, 0, sizeof *tok);
			snprintf(tok->what, sizeof tok->what, "the code expired "
			    "before the sign-in was completed: run the login "
			    "again");
			return OAUTH2_REFUSED;
		}
		st = oauth2_device_poll(a, e, d->device_code, tok);
		/* A failure to reach the endpoint once is no reason to
		 * make the user start over: poll on until the code ends. */
		if (st == OAUTH2_TEMP)
			fprintf(stderr, "sendq: %s: %s; trying again\n",
			    e->token_url, tok->what);
		else if (st != OAUTH2_PENDING && st != OAUTH2_SLOW_DOWN)
			return st;
		if (st == OAUTH2_SLOW_DOWN)
			interval += 5;
		oauth2_reply_free(tok);
	}
}

static enum oauth2_status
login_device(const struct conf_account *a, const struct oauth2_endpoints *e,
    struct oauth2_reply *tok)
{
	struct oauth2_reply	 d;
	enum oauth2_status	 st;

	if ((st = oauth2_device_request(a, e, &d)) != OAUTH2_OK) {
		fprintf(stderr, "sendq: device authorization at %s: %s\n",
		    e->device_url, d.what);
		oauth2_reply_free(&d);
		memset(tok, 0, sizeof *tok);
		return st;
	}
	printf("To sign in as %s, open\n  %s\nand enter the code\n  %s\n",
	    a->user, d.verification_uri, d.user_code);
	if (d.verification_uri_complete != NULL)
		printf("or open\n  %s\n", d.verification_uri_complete);
	printf("Waiting for the sign-in...\n");
	fflush(stdout);
	st = login_device_wait(a, e, &d, tok);
	oauth2_reply_free(&d);
	return st;
}

/* The loopback listener: 127.0.0.1, a port the kernel picks. */
static int
login_listen(unsigned *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * The request line of one connection, into b.  The whole line must come
 * within LOGIN_CONN_MS (the stream's deadline is per line), so that a
 * local client that connects and says nothing, or trickles, cannot keep
 * the browser's redirect waiting long.
 */
static int
login_request_line(int fd, struct buf *b)
{
	struct stream	*s;
	int		 r;

	if ((s = stream_new_pair(fd, -1, LOGIN_CONN_MS)) == NULL)
		return -1;
	r = stream_getline(s, b, LOGIN_LINE_MAX);
	stream_free(s);
	return r;
}

static void
login_answer(int fd, int code, const char *text)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
	    "charset=utf-8\r\nConnection: close\r\nCache-Control: no-store\r\n"
	    "\r\n<!DOCTYPE html><html><head><title>sendq</title></head><body>"
	    "<p>%s</p></body></html>\n", code, code == 200 ? "OK" :
	    "Bad Request", text) == 0)
		(void)util_write_all(fd, b.data, b.len);
	buf_free(&b);
}

/* The target of "GET TARGET HTTP/1.x" when its state is ours: 1. */
static int
login_target(const struct buf *line, const char *state, struct buf *got)
{
	const char	*l = buf_str(line), *sp;
	struct buf	 st;
	int		 r;

	if (strncmp(l, "GET ", 4) != 0 || (sp = strchr(l + 4, ' ')) == NULL)
		return 0;
	buf_reset(got);
	if (buf_add(got, l + 4, (size_t)(sp - l - 4)) == -1)
		return 0;
	buf_init(&st, 256);
	r = oauth2_query_get(buf_str(got), "state", &st) == 1 &&
	    strcmp(buf_str(&st), state) == 0;
	buf_free(&st);
	return r;
}

/*
 * Waits for the browser's redirect: the first request whose target
 * carries our state (others, a favicon, a stray client, are answered
 * 400).  0 with the target in got, or -1 after LOGIN_WAIT seconds.
 */
static int
login_wait_redirect(int lfd, const char *state, struct buf *got)
{
	struct pollfd	 p = { lfd, POLLIN, 0 };
	long long	 end = util_monotonic_ms() + LOGIN_WAIT * 1000LL;
	struct buf	 line;
	int		 fd, ok = 0;

	while (!ok && util_monotonic_ms() < end) {
		if (poll(&p, 1, 1000) <= 0 || (fd = accept4(lfd, NULL, NULL,
		    SOCK_CLOEXEC)) == -1)
			continue;
		buf_init_secret(&line, LOGIN_LINE_MAX);
		if (login_request_line(fd, &line) == 0 &&
		    (ok = login_target(&line, state, got)))
			login_answer(fd, 200, "sendq has the authorization: "
			    "you may close this window.");
		else
			login_answer(fd, 400, "Not the redirect sendq waits "
			    "for.");
		buf_free(&line);
		close(fd);
	}
	return ok ? 0 : -1;
}

/* --no-browser: the address the browser was sent to, pasted. */
static int
login_read_pasted(const char *state, struct buf *got)
{
	struct stream	*s;
	struct buf	 line, st;
	int		 r = -1;

	if ((s = stream_new_pair(STDIN_FILENO, -1, LOGIN_WAIT * 1000)) ==
	    NULL)
		return -1;
	buf_init_secret(&line, LOGIN_LINE_MAX);
	buf_init(&st, 256);
	if (stream_getline(s, &line, LOGIN_LINE_MAX) == 0 &&
	    oauth2_query_get(buf_str(&line), "state", &st) == 1 &&
	    strcmp(buf_str(&st), state) == 0 &&
	    buf_addstr(got, buf_str(&line)) == 0)
		r = 0;
	buf_free(&st);
	buf_free(&line);
	stream_free(s);
	return r;
}

/* The code of the redirect target, exchanged for tokens. */
static enum oauth2_status
login_exchange(const struct conf_account *a, const struct oauth2_endpoints *e,
    const char *target, const char *verifier, const char *redirect,
    struct oauth2_reply *tok)
{
	struct buf		 code, err;
	enum oauth2_status	 st = OAUTH2_REFUSED;

	memset(tok, 0, sizeof *tok);
	buf_init_secret(&code, LOGIN_LINE_MAX);
	buf_init(&err, 256);
	if (oauth2_query_get(target, "error", &err) == 1) {
		const char *text = oauth2_error_text(buf_str(&err));
		struct buf q;

		buf_init(&q, 256);
		(void)util_escape(&q, err.data, err.len, NULL);
		snprintf(tok->what, sizeof tok->what, "%s%s%s", buf_str(&q),
		    text != NULL ? ": " : "", text != NULL ? text : "");
		buf_free(&q);
	} else if (oauth2_query_get(target, "code", &code) != 1 ||
	    code.len == 0)
		snprintf(tok->what, sizeof tok->what, "the redirect carries "
		    "no code");
	else
		st = oauth2_code_exchange(a, e, code.data, verifier, redirect,
		    tok);
	buf_free(&code);
	buf_free(&err);
	return st;
}

static enum oauth2_status
login_code(const struct conf_account *a, const struct oauth2_endpoints *e,
    bool paste, struct oauth2_reply *tok)
{
	char			 verifier[OAUTH2_PKCE_LEN], ch[OAUTH2_PKCE_LEN];
	char			 state[OAUTH2_PKCE_LEN], redirect[64], *url;
	struct buf		 got;
	enum oauth2_status	 st = OAUTH2_LOCAL;
	unsigned		 port;
	int			 lfd;

	memset(tok, 0, sizeof *tok);
	if (e->auth_url == NULL) {
		snprintf(tok->what, sizeof tok->what, "no authorization URL "
		    "(oauth2_auth_url) and no device URL");
		return OAUTH2_REFUSED;
	}
	/* Listening even with --no-browser keeps the port ours. */
	if ((lfd = login_listen(&port)) == -1 ||
	    oauth2_pkce(state, ch) == -1 || oauth2_pkce(verifier, ch) == -1) {
		snprintf(tok->what, sizeof tok->what, "loopback listener: %s",
		    strerror(errno));
		if (lfd != -1)
			close(lfd);
		return OAUTH2_LOCAL;
	}
	snprintf(redirect, sizeof redirect, "http://127.0.0.1:%u/", port);
	if ((url = oauth2_auth_request(a, e, redirect, state, ch)) == NULL) {
		close(lfd);
		return OAUTH2_LOCAL;
	}
	printf("To sign in as %s, open this address in a browser:\n  %s\n",
	    a->user, url);
	if (paste)
		printf("then paste here the address the browser was sent to "
		    "(its page may not load):\n");
	else
		printf("Waiting for the browser on %s ...\n", redirect);
	fflush(stdout);
	free(url);
	buf_init_secret(&got, LOGIN_LINE_MAX);
	if ((paste ? login_read_pasted(state, &got) :
	    login_wait_redirect(lfd, state, &got)) == -1) {
		st = OAUTH2_REFUSED;
		snprintf(tok->what, sizeof tok->what, "%s", paste ? "no "
		    "address with this login's state was pasted" : "no "
		    "redirect came back in time");
	} else
		st = login_exchange(a, e, got.data, verifier, redirect, tok);
	util_wipe(verifier, sizeof verifier);
	buf_free(&got);
	close(lfd);
	return st;
}

/* The tokens of a completed grant into the account's token file. */
static int
login_save(const struct conf_account *a, const struct oauth2_reply *r)
{
	struct oauth2_token	 t;
	char			 err[768];
	int			 ex = EX_OK;

	memset(&t, 0, sizeof t);
	if (r->refresh_token == NULL) {
		fprintf(stderr, "sendq: account %s: the provider gave no "
		    "refresh token (the scope needs offline access)\n",
		    a->name);
		return EX_UNAVAILABLE;
	}
	if (oauth2_token_update(&t, r, util_now()) == -1) {
		fprintf(stderr, "sendq: out of memory\n");
		return EX_OSERR;
	}
	/* Under the token file's lock, so that a refresh from the old
	 * grant that is under way cannot overwrite the new one. */
	if (oauth2_token_store(a->oauth2_token_file, &t, err, sizeof err) ==
	    -1) {
		fprintf(stderr, "sendq: account %s: %s\n", a->name, err);
		ex = EX_CANTCREAT;
	} else
		printf("account %s: signed in; the token is kept in %s\n",
		    a->name, a->oauth2_token_file);
	oauth2_token_clear(&t);
	return ex;
}

static int
login(const struct conf_account *a, bool paste)
{
	struct oauth2_endpoints	 e;
	struct oauth2_reply	 tok;
	enum oauth2_status	 st;
	int			 ex;

	if (oauth2_endpoints(a, &e) == -1) {
		fprintf(stderr, "sendq: out of memory\n");
		return EX_OSERR;
	}
	st = e.device_url != NULL ? login_device(a, &e, &tok) :
	    login_code(a, &e, paste, &tok);
	if (st == OAUTH2_OK)
		ex = login_save(a, &tok);
	else {
		if (tok.what[0] != '\0')
			fprintf(stderr, "sendq: account %s: %s\n", a->name,
			    tok.what);
		ex = login_exit(st);
	}
	oauth2_reply_free(&tok);
	oauth2_endpoints_free(&e);
	return ex;
}

int
cmd_oauth2(const struct conf *conf, int argc, char **argv)
{
	const struct conf_account *a;
	const char	*name = NULL;
	bool		 paste = false;
	int		 k;

	if (argc < 2 || strcmp(argv[0], "login") != 0)
		return -1;
	for (k = 1; k < argc; k++)
		if (strcmp(argv[k], "--no-browser") == 0)
			paste = true;
		else if (argv[k][0] == '-' || name != NULL)
			return -1;
		else
			name = argv[k];
	if (name == NULL)
		return -1;
	if ((a = conf_account_by_name(conf, name)) == NULL) {
		fprintf(stderr, "sendq: no account %s in %s\n", name,
		    conf->path);
		return EX_USAGE;
	}
	if (a->oauth2_provider == CONF_OAUTH2_NONE) {
		fprintf(stderr, "sendq: account %s has no oauth2_provider\n",
		    name);
		return EX_CONFIG;
	}
	if (!secret_command_allowed()) {
		fprintf(stderr, "sendq: oauth2 login runs as root or as the "
		    "user sendq (the token file is theirs)\n");
		return EX_NOPERM;
	}
	return login(a, paste);
}
