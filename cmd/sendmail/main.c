/*
 * sendmail: the drop-in submission command.
 *
 * Thin by design: parse the command line the way sendmail 8 does, call
 * lib/ to read the message into the queue, and map the outcome to a
 * sysexits(3) status in one place (exit_for()).
 *
 * Exit 0 means the message is on disk: both spool files and the
 * directory fsynced.  Every failure before that removes what was
 * written, so the caller still holds the only copy and knows it.
 *
 * Security: this program runs set-group-ID sendq for any local user, so
 * it only queues (Postfix's postdrop is the model).  It holds no
 * network, TLS, SASL or delivery code and is linked without OpenSSL;
 * delivery, at once or by -q, is the work of the daemon or of the sendq
 * program, run by its fixed path (handover.c).  It is not dumpable and
 * leaves no core file: its memory may hold what the group may read.
 * The environment is cleared before anything reads it (sanitize_env()).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "alias.h"
#include "buf.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "mail.h"
#include "queue.h"
#include "resolve.h"
#include "showq.h"
#include "smtpd.h"
#include "submit.h"
#include "util.h"
#include "sendmail.h"

#ifndef SENDQ_CONF_PATH
#define SENDQ_CONF_PATH CONF_DEFAULT_PATH
#endif
#ifndef SENDQ_SBINDIR
#define SENDQ_SBINDIR	"/usr/local/sbin"
#endif
#ifndef SENDQ_GROUP
#define SENDQ_GROUP	"sendq"
#endif
#ifndef SENDQ_SOCKET_PATH
#define SENDQ_SOCKET_PATH "/run/sendq/sendq.sock"
#endif

const char	*progname = "sendmail";
bool		 quiet;

/* The program that delivers, and the -C file it is to read (NULL: its
 * default, which is ours). */
char		 sendq_path[PATH_MAX] = SENDQ_SBINDIR "/sendq";
const char	*sendq_config;

void
errx_msg(const char *fmt, ...)
{
	va_list	 ap;

	if (quiet)
		return;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
usage(const char *fmt, ...)
{
	va_list	 ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: %s [-t] [-i] [-f sender] [-F name] "
	    "[-od{b|i|q}] [-v] [-C file] [recipient ...]\n"
	    "       %s -q[interval]\n", progname, progname);
	exit(EX_USAGE);
}

/* Options that take a value, attached or as the next argument. */
static bool
takes_value(char c)
{
	return strchr("fFrhLXNRVBCOe", c) != NULL;
}

/* -N never, or a list of success, failure, delay (RFC 3461 NOTIFY). */
static void
option_notify(struct opts *o, const char *v)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char	*p = v, *e;
	size_t		 len, i;
	unsigned	 seen = 0;

	if (strcasecmp(v, "never") == 0) {
		snprintf(o->dsn_notify, sizeof o->dsn_notify, "NEVER");
		return;
	}
	o->dsn_notify[0] = '\0';
	for (; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		for (i = 0; i < 3; i++)
			if (strlen(words[i]) == len &&
			    strncasecmp(words[i], p, len) == 0)
				break;
		if (i == 3)
			usage("-N %s: not never or a list of success, failure "
			    "and delay", v);
		seen |= 1u << i;
	}
	for (i = 0; i < 3; i++)
		if (seen & (1u << i)) {
			size_t l = strlen(o->dsn_notify);

			snprintf(o->dsn_notify + l, sizeof o->dsn_notify - l,
			    "%s%s", l ? "," : "", words[i]);
		}
	if (seen == 0)
		usage("-N %s: empty", v);
}

/* -V: an ENVID is printable ASCII, at most 100 characters (RFC 3461). */
static void
option_envid(struct opts *o, const char *v)
{
	const char	*p;

	if (*v == '\0' || strlen(v) > 100)
		usage("-V: the envelope ID must have 1 to 100 characters");
	for (p = v; *p != '\0'; p++)
		if (*p < 0x21 || *p > 0x7e)
			usage("-V: the envelope ID must be printable ASCII");
	o->dsn_envid = v;
}

/* Notes an option that is accepted and ignored; -v lists them. */
static void
ignored(struct opts *o, const char *prefix, const char *arg)
{
	size_t	 l = strlen(o->ignored);

	if (l + 2 < sizeof o->ignored)
		snprintf(o->ignored + l, sizeof o->ignored - l, "%s%s%s",
		    l > 0 ? " " : "", prefix, arg);
}

static void
option_value(struct opts *o, char c, const char *v)
{
	switch (c) {
	case 'f':
	case 'r':
		/* Never let a value be an option (PHPMailer CVE-2016-10033
		 * class): "-f -oQ/tmp" must not become two options. */
		if (v[0] == '-')
			usage("sender \"%s\" begins with '-'", v);
		o->from = v;
		break;
	case 'F':
		o->fullname = v;
		break;
	case 'C':
		o->config = v;
		break;
	case 'B':
		if (strcasecmp(v, "8BITMIME") != 0 && strcasecmp(v, "7BIT") != 0)
			usage("-B %s: not 7BIT or 8BITMIME", v);
		break;
	case 'N':
		option_notify(o, v);
		break;
	case 'R':
		if (strcasecmp(v, "full") == 0)
			o->dsn_ret = "FULL";
		else if (strcasecmp(v, "hdrs") == 0)
			o->dsn_ret = "HDRS";
		else
			usage("-R %s: not full or hdrs", v);
		break;
	case 'V':
		option_envid(o, v);
		break;
	case 'h':
	case 'L':
	case 'X':
	case 'O':
	case 'e':
		ignored(o, (char[]){ '-', c, ' ', '\0' }, v);
		break;
	}
}

static void
option_b(struct opts *o, const char *rest)
{
	static const struct {
		const char	*name;
		enum mode	 mode;
	} modes[] = {
		{ "m", MODE_SEND },
		{ "p", MODE_LIST },
		{ "s", MODE_SMTP },
		{ "i", MODE_ALIASES },
		{ "v", MODE_VERIFY },
	};
	size_t	 i;

	for (i = 0; i < NELEM(modes); i++)
		if (strcmp(rest, modes[i].name) == 0) {
			o->mode = modes[i].mode;
			return;
		}
	if (strcmp(rest, "d") == 0 || strcmp(rest, "D") == 0 ||
	    strcmp(rest, "t") == 0 || strcmp(rest, "h") == 0 ||
	    strcmp(rest, "H") == 0)
		usage("-b%s: not supported (sendq takes no SMTP connections "
		    "and has no address test or host status modes)", rest);
	usage("unknown mode -b%s", rest);
}

static void
option_o(struct opts *o, const char *rest)
{
	if (strcmp(rest, "i") == 0)
		o->ignore_dots = true;
	else if (rest[0] == 'd') {
		if (strcmp(rest, "db") == 0)
			o->delivery = CONF_DELIVERY_BACKGROUND;
		else if (strcmp(rest, "di") == 0)
			o->delivery = CONF_DELIVERY_INTERACTIVE;
		else if (strcmp(rest, "dq") == 0 || strcmp(rest, "dd") == 0)
			o->delivery = CONF_DELIVERY_QUEUE;
		else
			usage("-o%s: unknown delivery mode", rest);
	} else if (strcmp(rest, "eq") == 0)
		o->quiet = quiet = true;
	else
		ignored(o, "-o", rest);
}

static void
option_q(struct opts *o, const char *rest)
{
	o->mode = MODE_QUEUE_RUN;
	if (rest[0] == 'f') {
		o->q_foreground = true;
		rest++;
	}
	switch (rest[0]) {
	case '\0':
		return;
	case 'I':
		o->q_id = rest + 1;
		return;
	case 'R':
		o->q_rcpt = rest + 1;
		return;
	case 'S':
		o->q_sender = rest + 1;
		return;
	}
	if ((o->q_interval = util_parse_duration(rest)) == -1)
		usage("-q%s: bad interval", rest);
}

/* One option letter that takes no value. */
static void
option_flag(struct opts *o, char c)
{
	switch (c) {
	case 't':
		o->extract = true;
		break;
	case 'i':
		o->ignore_dots = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'n':
	case 'm':
	case 's':
	case 'G':
	case 'U':
		ignored(o, "-", (char[]){ c, '\0' });
		break;
	default:
		usage("unknown option -%c", c);
	}
}

/*
 * The letters of argv[*i] after its '-', as getopt() reads them: the
 * first that takes a value takes the rest of the word, or else the next
 * argument, and *i moves past it.
 */
static void
option_cluster(struct opts *o, char **argv, int *i)
{
	char	*a, c;

	for (a = argv[*i] + 1; (c = *a) != '\0'; a++) {
		if (takes_value(c)) {
			const char *v = a[1] != '\0' ? a + 1 : argv[++*i];

			if (v == NULL)
				usage("option -%c needs a value", c);
			option_value(o, c, v);
			break;
		}
		option_flag(o, c);
	}
}

/*
 * Options may come before or after the recipients, as with the getopt()
 * that sendmail 8 and Postfix use on this system; "--" ends them, and
 * only after it may a recipient begin with '-'.
 */
static void
parse_args(struct opts *o, int argc, char **argv)
{
	int	 i;
	char	*a;
	bool	 dashdash = false;

	if ((o->rcpts = calloc((size_t)argc + 1, sizeof *o->rcpts)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(EX_TEMPFAIL);
	}
	o->nrcpts = 0;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash) {
			o->rcpts[o->nrcpts++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (a[0] != '-') {
			o->rcpts[o->nrcpts++] = a;
			continue;
		}
		if (a[1] == '\0')
			usage("\"-\" is neither an option nor an address");
		/* Whole-word options that carry their rest. */
		switch (a[1]) {
		case 'b':
			option_b(o, a + 2);
			continue;
		case 'o':
			option_o(o, a + 2);
			continue;
		case 'q':
			option_q(o, a + 2);
			continue;
		case 'A':	/* -Am, -Ac */
		case 'd':	/* -d debug categories */
			ignored(o, "", a);
			continue;
		}
		option_cluster(o, argv, &i);
	}
}

/* --- submission ------------------------------------------------- */

/* A spool that could not take the message: the disk, or the rights. */
static int
exit_for_errno(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EIO || err == EFBIG ?
	    EX_IOERR : EX_CANTCREAT;
}

/* The single place where an outcome becomes an exit status. */
int
exit_for(const struct submit_result *sr)
{
	switch (sr->status) {
	case SUBMIT_OK:
		return EX_OK;
	case SUBMIT_NO_RCPTS_GIVEN:
		return EX_USAGE;
	case SUBMIT_BAD_ADDRESS:
		return EX_NOUSER;
	case SUBMIT_NOT_ALLOWED:
		return EX_NOPERM;
	case SUBMIT_RATE_LIMITED:
		return EX_TEMPFAIL;
	case SUBMIT_NO_RCPTS:
		return EX_DATAERR;
	case SUBMIT_SPOOL:
		return exit_for_errno(sr->error);
	case SUBMIT_NOMEM:
		return EX_TEMPFAIL;
	case SUBMIT_MAIL:
		break;
	}
	switch (sr->mail) {
	case MAIL_OK:
		return EX_SOFTWARE;
	case MAIL_ERR_SIZE:
	case MAIL_ERR_HEADERS:
		return EX_DATAERR;
	case MAIL_ERR_ADDRESS:
		return EX_NOUSER;
	case MAIL_ERR_READ:
		return EX_IOERR;
	case MAIL_ERR_WRITE:
		return exit_for_errno(sr->error);
	case MAIL_ERR_NOMEM:
		return EX_TEMPFAIL;
	}
	return EX_SOFTWARE;
}

/* The aliases, or NULL with the error said: a configuration error. */
static struct alias_db *
load_aliases(const struct conf *conf)
{
	struct alias_db	*db;
	char		 err[1024];

	if ((db = alias_load(conf, err, sizeof err)) == NULL)
		errx_msg("%s", err);
	return db;
}

/* Who calls, as a submission needs to know. */
struct caller {
	uid_t		 uid;
	char		*login;
	char		*gecos;		/* the passwd full name, or NULL */
	struct alias_db	*aliases;
};

/* EX_OK, or the exit status with the error said. */
static int
caller_load(struct caller *c, const struct conf *conf)
{
	memset(c, 0, sizeof *c);
	c->uid = getuid();
	if ((c->aliases = load_aliases(conf)) == NULL)
		return EX_CONFIG;
	if (submit_caller(c->uid, &c->login, &c->gecos) == -1) {
		alias_free(c->aliases);
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

static void
caller_free(struct caller *c)
{
	alias_free(c->aliases);
	free(c->login);
	free(c->gecos);
}

/* A submission of the command line's message and addresses. */
static void
submission(struct submit_params *sp, const struct opts *o,
    const struct conf *conf, const struct caller *c)
{
	memset(sp, 0, sizeof *sp);
	sp->conf = conf;
	sp->aliases = c->aliases;
	sp->uid = c->uid;
	sp->login = c->login;
	sp->fullname = o->fullname != NULL ? o->fullname : c->gecos;
	sp->from = o->from;
	sp->rcpts = o->rcpts;
	sp->nrcpts = (size_t)o->nrcpts;
	sp->extract = o->extract;
	sp->dot_ends = !o->ignore_dots;
	sp->dsn_notify = o->dsn_notify[0] != '\0' ? o->dsn_notify : NULL;
	sp->dsn_ret = o->dsn_ret;
	sp->dsn_envid = o->dsn_envid;
}

/* -bi: there is no database to build; check the aliases and count. */
static int
do_aliases(const struct conf *conf)
{
	struct alias_db	*db;
	char		 first[1024];
	size_t		 i, n;

	if ((db = load_aliases(conf)) == NULL)
		return EX_CONFIG;
	for (i = 0; i < alias_warnings(db) && i < ALIAS_WARNINGS_KEPT; i++)
		errx_msg("warning: %s", alias_warning(db, i));
	if ((n = alias_unsupported(db, first, sizeof first)) > 0)
		errx_msg("warning: %zu target%s cannot be delivered, the first: "
		    "%s", n, n == 1 ? "" : "s", first);
	printf("%s: %zu aliases\n", conf->aliases_file != NULL ?
	    conf->aliases_file : conf->path, alias_count(db));
	alias_free(db);
	return EX_OK;
}

/*
 * Whether the caller may read the configuration anyway: root, or a
 * member of group sendq by its real or supplementary groups (our
 * effective group, set-group-ID, does not count).
 */
static bool
caller_reads_config(void)
{
	struct group	*gr;
	gid_t		*groups;
	int		 n, i;
	bool		 member = false;

	if (getuid() == 0)
		return true;
	if ((gr = getgrnam(SENDQ_GROUP)) == NULL)
		return false;
	if (getgid() == gr->gr_gid)
		return true;
	if ((n = getgroups(0, NULL)) <= 0 ||
	    (groups = calloc((size_t)n, sizeof *groups)) == NULL)
		return false;
	n = getgroups(n, groups);
	for (i = 0; i < n && !member; i++)
		member = groups[i] == gr->gr_gid;
	free(groups);
	return member;
}

/* "via account NAME (host:port, ...)"; the hosts only for a caller who
 * may read them in the configuration. */
static void
print_route(const struct conf_account *a, bool hosts)
{
	size_t	 j;

	printf("via account %s", a->name);
	if (hosts) {
		printf(" (");
		for (j = 0; j < a->nhosts; j++)
			printf("%s%s:%s", j ? ", " : "", a->hosts[j].name,
			    a->hosts[j].port);
		printf(")");
	}
	printf("\n");
}

/*
 * The lines of -bv: each address given, where each of its recipients
 * goes (a recipient that an earlier address reaches already is not
 * listed again), or why it cannot go anywhere.  What the caller wrote
 * is escaped before it reaches the terminal.
 */
static void
print_verified(const struct resolve_result *rr, bool hosts)
{
	const struct resolve_given	*g;
	struct buf			 text;
	size_t				 i, k;

	buf_init(&text, 0);
	for (i = 0; i < rr->ngiven; i++) {
		g = &rr->given[i];
		buf_reset(&text);
		if (util_escape(&text, g->text, strlen(g->text), NULL) == -1)
			(void)buf_addstr(&text, "(out of memory)");
		if (g->err != NULL)
			printf("%s... undeliverable: %s\n", buf_str(&text),
			    g->err);
		for (k = g->first; k < g->first + g->n; k++) {
			printf("%s... deliverable: ", buf_str(&text));
			if (strcmp(rr->rcpts.v[k], g->text) != 0)
				printf("as %s, ", rr->rcpts.v[k]);
			print_route(rr->account, hosts);
		}
	}
	buf_free(&text);
}

/*
 * -bv: where each address would go, after aliases and qualification, and
 * through which account (chosen by the sender, as for mail) and, for
 * root and group sendq, which hosts; nothing is sent.  The addresses
 * are checked as a submission checks them (submit_verify), so the exit
 * status is the one a submission would have: 67 when an address cannot
 * be resolved, 77 for a -f the caller may not give, 65 for too many.
 */
static int
do_verify(const struct opts *o, const struct conf *conf)
{
	struct caller		 c;
	struct submit_params	 sp;
	struct submit_result	 sr;
	struct resolve_result	 rr;
	int			 ex;

	if (o->nrcpts == 0)
		usage("-bv needs addresses");
	if ((ex = caller_load(&c, conf)) != EX_OK)
		return ex;
	submission(&sp, o, conf, &c);
	(void)submit_verify(&sp, &rr, &sr);
	print_verified(&rr, caller_reads_config());
	/* An address that failed said so on its line; the rest here. */
	if (sr.status != SUBMIT_OK && (rr.status != RESOLVE_BAD_ADDRESS ||
	    rr.ngiven == 0))
		errx_msg("%s", sr.err);
	resolve_free(&rr);
	caller_free(&c);
	return exit_for(&sr);
}

static int
do_send(const struct opts *o, const struct conf *conf)
{
	struct caller		 c;
	struct submit_params	 sp;
	struct submit_result	 sr;
	struct mail_source	 src;
	int			 in_fd = STDIN_FILENO, delivery, ex;

	if ((ex = caller_load(&c, conf)) != EX_OK)
		return ex;
	submission(&sp, o, conf, &c);
	mail_fd_source(&src, &in_fd);
	if (submit(&sp, &src, &sr) == -1) {
		ex = exit_for(&sr);
		errx_msg("%s", sr.err);
		goto out;
	}

	/* From here the message is safe on disk: exit 0 whatever comes. */
	ex = EX_OK;
	delivery = o->delivery >= 0 ? o->delivery : (int)conf->delivery;
	if (o->verbose && delivery == CONF_DELIVERY_BACKGROUND)
		delivery = CONF_DELIVERY_INTERACTIVE;
	/* The lock goes: sendq takes it again to deliver. */
	queue_msg_free(sr.msg);
	if (delivery == CONF_DELIVERY_QUEUE)
		goto out;
	if ((ex = deliver_by_daemon(conf, sr.id, delivery ==
	    CONF_DELIVERY_INTERACTIVE)) != -1)
		goto out;
	ex = EX_OK;
	if (delivery == CONF_DELIVERY_INTERACTIVE)
		ex = deliver_interactive(conf, sr.id);
	else
		deliver_background(sr.id);
out:
	caller_free(&c);
	return ex;
}

/* -bs: where each message the SMTP dialogue queued goes next. */
struct bs_ctx {
	const struct conf	*conf;
	int			 delivery;
};

/*
 * Interactive delivery is background delivery in -bs mode: the session
 * has no exit status per message to report a verdict with, and the
 * client should not wait for the smarthost after each message.
 */
static void
bs_queued(void *arg, struct queue_msg *m)
{
	struct bs_ctx	*c = arg;
	char		 id[QUEUE_ID_LEN + 1];

	/* A long session must not pile up the zombies of earlier
	 * deliveries. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(id, sizeof id, "%s", queue_msg_env(m)->id);
	queue_msg_free(m);
	if (c->delivery != CONF_DELIVERY_QUEUE &&
	    deliver_by_daemon(c->conf, id, false) == -1)
		deliver_background(id);
}

/* -bs: SMTP on standard input and output, any number of messages. */
static int
do_smtp(const struct opts *o, const struct conf *conf)
{
	struct caller		 c;
	struct smtpd_params	 sp;
	struct bs_ctx		 ctx;
	int			 ex;

	if ((ex = caller_load(&c, conf)) != EX_OK)
		return ex;
	ctx.conf = conf;
	ctx.delivery = o->delivery >= 0 ? o->delivery : (int)conf->delivery;
	memset(&sp, 0, sizeof sp);
	sp.conf = conf;
	sp.aliases = c.aliases;
	sp.uid = c.uid;
	sp.login = c.login;
	sp.fullname = o->fullname != NULL ? o->fullname : c.gecos;
	sp.queued = bs_queued;
	sp.arg = &ctx;
	if (smtpd_run(STDIN_FILENO, STDOUT_FILENO, &sp) == -1) {
		errx_msg("-bs: SMTP session ended: %s", strerror(errno));
		ex = EX_IOERR;
	}
	caller_free(&c);
	return ex;
}

/*
 * -q: the sendq program runs the queue in our place (exec, so its exit
 * status is ours and a signal sent to us reaches it): once, every
 * message now ("sendq flush"), or every interval ("sendq run --every"),
 * as a daemon unless -qf.
 */
static int
do_queue_run(struct opts *o)
{
	static char	 config_abs[PATH_MAX];
	const char	*words[SENDQ_ARGV_MAX];
	char		 every[32];
	size_t		 n = 0;

	if (getuid() != 0 && o->config == NULL) {
		errx_msg("only root may run the queue");
		return EX_NOPERM;
	}
	if (o->q_interval > 0) {
		snprintf(every, sizeof every, "%lds", o->q_interval);
		words[n++] = "run";
		words[n++] = "--every";
		words[n++] = every;
	} else
		words[n++] = "flush";
	if (o->q_id != NULL) {
		words[n++] = "--id";
		words[n++] = o->q_id;
	}
	if (o->q_rcpt != NULL) {
		words[n++] = "--recipient";
		words[n++] = o->q_rcpt;
	}
	if (o->q_sender != NULL) {
		words[n++] = "--sender";
		words[n++] = o->q_sender;
	}
	words[n] = NULL;
	if (o->q_interval > 0 && !o->q_foreground) {
		/* The daemon works in /: a -C file named from here must
		 * still be found. */
		if (sendq_config != NULL && sendq_config[0] != '/' &&
		    (sendq_config = realpath(sendq_config, config_abs)) ==
		    NULL) {
			errx_msg("%s: %s", o->config, strerror(errno));
			return EX_CONFIG;
		}
		if (daemon(0, 0) == -1) {
			errx_msg("daemon: %s", strerror(errno));
			return EX_OSERR;
		}
	}
	run_sendq(words, -1);
	errx_msg("cannot run %s: %s", sendq_path, strerror(errno));
	return EX_UNAVAILABLE;
}

/*
 * Before anything else: no core file and no ptrace(2) by the caller,
 * whatever the machine's fs.suid_dumpable says; and a standard
 * descriptor the caller closed is /dev/null, so that no file or socket
 * of ours takes its place (glibc does so too in a set-group-ID start).
 */
static void
harden(void)
{
	struct rlimit	 none = { 0, 0 };
	int		 fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", O_RDWR) != fd)
			exit(EX_OSERR);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_CORE, &none) == -1) {
		fprintf(stderr, "%s: cannot make the process undumpable: %s\n",
		    progname, strerror(errno));
		exit(EX_OSERR);
	}
}

/*
 * The sendq program is SENDQ_SBINDIR/sendq.  The tests of a build tree
 * name theirs with SENDQ_PROGRAM, honoured only in a process without
 * privileges (where it can do nothing its caller could not): read
 * before the environment is cleared.
 */
static void
choose_sendq(void)
{
	const char	*p = getenv("SENDQ_PROGRAM");

	if (p == NULL || p[0] != '/' || strlen(p) >= sizeof sendq_path ||
	    getuid() != geteuid() || getgid() != getegid())
		return;
	snprintf(sendq_path, sizeof sendq_path, "%s", p);
}

/*
 * sendmail runs set-group-ID sendq: nothing the caller put in the
 * environment may steer it.  Only TZ is kept (Date: headers are in the
 * caller's local time), and only in a harmless form.
 */
static void
sanitize_env(void)
{
	const char	*tz = getenv("TZ");
	char		 keep[64] = "";

	if (tz != NULL && strlen(tz) < sizeof keep && strstr(tz, "..") == NULL &&
	    strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+-_/:,.") == strlen(tz))
		snprintf(keep, sizeof keep, "%s", tz);
	if (clearenv() != 0) {
		fprintf(stderr, "%s: cannot clear the environment\n", progname);
		exit(EX_OSERR);
	}
	if (setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) == -1 ||
	    (keep[0] != '\0' && setenv("TZ", keep, 1) == -1)) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(EX_TEMPFAIL);
	}
}

/*
 * A configuration of the caller's choosing gets the caller's rights
 * only: the group privilege goes for good before the file is read.
 */
static void
drop_group(void)
{
	gid_t	 gid = getgid();

	if (setresgid(gid, gid, gid) == -1 || getegid() != gid) {
		fprintf(stderr, "%s: cannot drop group privileges: %s\n",
		    progname, strerror(errno));
		exit(EX_OSERR);
	}
}

/* The name we answer to: sendmail, or mailq and newaliases. */
static void
set_progname(int argc, char **argv)
{
	char	*base;

	if (argc > 0 && argv[0] != NULL && (base = strrchr(argv[0], '/')))
		progname = base + 1;
	else if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0')
		progname = argv[0];
	if (strcmp(progname, "sendmail") != 0)
		progname = strcmp(progname, "mailq") == 0 ? "mailq" :
		    strcmp(progname, "newaliases") == 0 ? "newaliases" :
		    "sendmail";
}

/*
 * The configuration: -C's file, read with the caller's rights only, or
 * ours.  EX_OK, or EX_CONFIG with the error said.
 */
static int
load_config(const struct opts *o, struct conf **conf)
{
	const char	*path = o->config != NULL ? o->config : SENDQ_CONF_PATH;
	char		 err[1024];

	sendq_config = o->config;
	if (o->config != NULL && getuid() != 0)
		drop_group();
	/* Only the default file may be missing: a -C typo is an error. */
	if (o->config != NULL && access(o->config, F_OK) == -1) {
		errx_msg("%s: %s", o->config, strerror(errno));
		return EX_CONFIG;
	}
	if (conf_load(path, conf, err, sizeof err) == -1) {
		errx_msg("%s", err);
		return EX_CONFIG;
	}
	return EX_OK;
}

/* -bp, mailq: the caller's own messages, or all for root and group
 * sendq. */
static int
do_list(const struct conf *conf)
{
	if (showq_mailq(stdout, conf->queue_dir, showq_caller_sees_all(),
	    getuid()) == -1) {
		errx_msg("%s: cannot read the queue: %s", conf->queue_dir,
		    strerror(errno));
		return errno == EACCES ? EX_NOPERM : EX_IOERR;
	}
	return EX_OK;
}

static int
run_mode(struct opts *o, const struct conf *conf)
{
	switch (o->mode) {
	case MODE_QUEUE_RUN:
		return do_queue_run(o);
	case MODE_ALIASES:
		return do_aliases(conf);
	case MODE_VERIFY:
		return do_verify(o, conf);
	case MODE_SMTP:
		return do_smtp(o, conf);
	case MODE_LIST:
		return do_list(conf);
	case MODE_SEND:
		break;
	}
	return do_send(o, conf);
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	struct conf	*conf;
	int		 ex;

	set_progname(argc, argv);
	harden();
	/* Writes to a peer that has gone (-bs, -odi) must fail, not kill
	 * us. */
	signal(SIGPIPE, SIG_IGN);
	/* Spool files: read and write for owner and group only. */
	umask(007);
	choose_sendq();
	sanitize_env();
	memset(&o, 0, sizeof o);
	o.delivery = -1;
	if (strcmp(progname, "mailq") == 0)
		o.mode = MODE_LIST;
	parse_args(&o, argc, argv);
	if (strcmp(progname, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	if (o.mode == MODE_SEND && o.config == NULL && getuid() != 0 &&
	    faccessat(AT_FDCWD, SENDQ_CONF_PATH, R_OK, AT_EACCESS) == -1 &&
	    errno == EACCES) {
		log_set_trace(o.verbose);
		ex = submit_by_daemon(&o, SENDQ_SOCKET_PATH,
		    "cannot read " SENDQ_CONF_PATH);
		free(o.rcpts);
		return ex;
	}
	if (load_config(&o, &conf) != EX_OK) {
		free(o.rcpts);
		return EX_CONFIG;
	}
	(void)conf_log_open(conf, "sendq");
	log_set_trace(o.verbose);
	if (o.verbose && o.ignored[0] != '\0')
		fprintf(stderr, "%s: accepted and ignored: %s\n", progname,
		    o.ignored);

	if (o.mode == MODE_SEND && o.config == NULL && getuid() != 0 &&
	    faccessat(AT_FDCWD,
	    conf->queue_dir, W_OK | X_OK, AT_EACCESS) == -1 && errno == EACCES)
		ex = submit_by_daemon(&o, conf->socket,
		    "cannot write the queue");
	else
		ex = run_mode(&o, conf);
	conf_free(conf);
	log_close();
	free(o.rcpts);
	return ex;
}
