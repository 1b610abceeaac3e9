/*
 * sendq: administration of the queue and the configuration, and the
 * delivering half of sendmail.
 *
 *   sendq [-C file] [-v] version | check [--connect] | queue [--json]
 *       [--failed] | show ID | delete ID... |
 *       flush [--id S] [--recipient S] [--sender S] [ID...] |
 *       flush --told-fd FD ID | run [--every D] [--id S] ...
 *
 * Thin: each command is a call into lib/ and a sysexits(3) status.
 *
 * The set-group-ID sendmail only queues; it runs this program to
 * deliver (flush ID, at once after submission; flush --told-fd for
 * -odi; flush and run for -q), with its own privileges: the caller's
 * uid and group sendq.  So this program, too, is not dumpable and
 * leaves no core file, and keeps large buffers off the stack.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "deliver.h"
#include "explain.h"
#include "ipc.h"
#include "log.h"
#include "login.h"
#include "queue.h"
#include "secret.h"
#include "showq.h"
#include "status.h"
#include "util.h"
#include "smtp.h"
#include "buf.h"

#ifndef SENDQ_CONF_PATH
#define SENDQ_CONF_PATH CONF_DEFAULT_PATH
#endif
#ifndef SENDQ_VERSION
#define SENDQ_VERSION "unknown"
#endif

/* The usage: on stdout with exit 0 when asked for (--help), else on
 * stderr with exit 64. */
static void __attribute__((noreturn))
usage_to(FILE *fp, int ex)
{
	fprintf(fp,
	    "usage: sendq [-C file] [-v] command\n"
	    "       sendq --help\n"
	    "  version             print the version\n"
	    "  check [--connect]   validate the configuration; with --connect,\n"
	    "                      also try every smarthost (sends nothing)\n"
	    "  queue [--json] [--failed]\n"
	    "                      list the queue (Postfix's layout, or JSON lines)\n"
	    "  status [--json | --prometheus] [--output FILE]\n"
	    "                      the queue and the accounts at a glance\n"
	    "  show ID             print a message's envelope and text\n"
	    "  delete ID ...       remove messages without sending them\n"
	    "  flush [--id S] [--recipient S] [--sender S] [--no-daemon] [ID ...]\n"
	    "                      attempt queued messages now (by the daemon,\n"
	    "                      when one runs)\n"
	    "  run [--every D] [--id S] [--recipient S] [--sender S]\n"
	    "                      run the queue (repeatedly, every D)\n"
	    "  daemon              the delivery engine, in the foreground\n"
	    "  oauth2 login ACCOUNT [--no-browser]\n"
	    "                      obtain an OAuth2 account's token (once)\n");
	exit(ex);
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr, EX_USAGE);
}

static int
cmd_check(const struct conf *conf)
{
	size_t	 i, h;

	printf("%s: ok (%s)\n", conf->path, conf->from_file ? "read" :
	    "missing: built-in defaults");
	printf("hostname %s, domain %s, queue %s\n", conf->hostname,
	    conf->domain, conf->queue_dir);
	for (i = 0; i < conf->naccounts; i++) {
		const struct conf_account *a = &conf->accounts[i];

		printf("account %s: tls %s%s, auth %s, hosts", a->name,
		    conf_tls_name(a->tls), a->tls_verify ? "" :
		    " (not verified)", conf_auth_name(a->auth));
		for (h = 0; h < a->nhosts; h++)
			printf(" %s:%s", a->hosts[h].name, a->hosts[h].port);
		printf("; max_recipients %u, max_connections %u, "
		    "idle_timeout %us, max_messages_per_connection %u, rate ",
		    a->max_recipients, a->max_connections, a->idle_timeout,
		    a->max_messages_per_connection);
		if (a->rate_count == 0)
			printf("none\n");
		else
			printf("%u/%c\n", a->rate_count, a->rate_period == 60 ?
			    'm' : a->rate_period == 3600 ? 'h' : 'd');
	}
	return EX_OK;
}

/* What the session learned of TLS, for connect_host. */
static void
connect_tls(const struct smtp_info *in, bool ready)
{
	if (!in->tls_tried) {
		if (ready)
			printf("  tls: none (the connection is not "
			    "encrypted)\n");
		return;
	}
	printf("  tls: %s %s\n", in->tls.version[0] ? in->tls.version :
	    "(no handshake)", in->tls.cipher);
	if (in->tls.subject[0] != '\0')
		printf("  certificate: subject %s\n"
		    "               issuer %s\n"
		    "               expires %s\n"
		    "               %s\n", in->tls.subject,
		    in->tls.issuer, in->tls.not_after, in->tls.fingerprint);
	if (in->tls.version[0] != '\0')
		printf("  verification: %s%s\n", in->tls.verified ?
		    "ok" : "failed: ", in->tls.verified ? "" :
		    in->tls.verify_error);
}

/* One host of one account: connect, TLS, AUTH, QUIT; report each step. */
static bool
connect_host(const struct conf *conf, const struct conf_account *a,
    size_t i, struct deliver_secret *ds)
{
	const struct smtp_info	*in;
	struct smtp_params	 params;
	struct smtp_client	*c;
	struct smtp_result	 res;
	int			 r;

	printf("account %s, host %s:%s\n", a->name, a->hosts[i].name,
	    a->hosts[i].port);
	deliver_params(conf, a, i, ds->value, &params);
	deliver_secret_hook(ds, &params);
	if ((c = smtp_client_new(&params)) == NULL) {
		printf("  FAILED: out of memory\n");
		return false;
	}
	r = smtp_open(c, &res);
	in = smtp_info(c);
	connect_tls(in, r == 0);
	if (in->caps[0] != '\0')
		printf("  capabilities: %s\n", in->caps);
	if (in->auth[0] != '\0')
		printf("  auth: %s as %s: accepted\n", in->auth, a->user);
	else if (r == 0)
		printf("  auth: %s\n", ds->value != NULL ? "not used" :
		    "none configured");
	if (r == 0)
		printf("  ok\n");
	else
		printf("  FAILED: %s\n", ds->err[0] ? ds->err : res.what);
	if (r != 0 && explain_reply(&res.reply) != NULL)
		printf("  explanation: %s\n", explain_reply(&res.reply));
	smtp_client_free(c);
	return r == 0;
}

static int
cmd_connect(const struct conf *conf)
{
	struct deliver_secret	 ds;
	size_t			 i, h;
	int			 bad = 0;

	memset(&ds, 0, sizeof ds);
	for (i = 0; i < conf->naccounts; i++) {
		const struct conf_account *a = &conf->accounts[i];

		ds.acct = a;
		if (deliver_secret_get(&ds) == -1) {
			printf("account %s\n  FAILED: %s\n", a->name, ds.err);
			bad++;
			continue;
		}
		for (h = 0; h < a->nhosts; h++)
			bad += !connect_host(conf, a, h, &ds);
		deliver_secret_clear(&ds);
	}
	return bad > 0 ? EX_UNAVAILABLE : EX_OK;
}

static int
cmd_queue(const struct conf *conf, int argc, char **argv)
{
	bool	 json = false, failed = false;
	int	 i, r;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--failed") == 0)
			failed = true;
		else
			usage();
	}
	if (failed && !json)
		usage();
	r = json ? showq_json(stdout, conf->queue_dir, failed) :
	    showq_mailq(stdout, conf->queue_dir, true, 0);
	if (r == -1) {
		fprintf(stderr, "sendq: %s: %s\n", conf->queue_dir,
		    strerror(errno));
		return errno == EACCES ? EX_NOPERM : EX_IOERR;
	}
	return EX_OK;
}

/* The spool, or NULL after a message (*ex says what it comes to). */
static struct queue *
open_queue(const struct conf *conf, int *ex)
{
	struct queue	*q;
	char		 err[512];

	if ((q = queue_new(conf->queue_dir, 0, err, sizeof err)) == NULL) {
		fprintf(stderr, "sendq: %s\n", err);
		*ex = errno == EACCES ? EX_NOPERM : errno == ENOENT ?
		    EX_NOINPUT : EX_IOERR;
	}
	return q;
}

/* Where message id is: the queue, or failed/ (sub), or neither. */
static int
find_message(struct queue *q, const char *id, const char **sub,
    struct queue_env *env)
{
	char	 err[512];
	int	 r;

	if (!queue_id_valid(id)) {
		fprintf(stderr, "sendq: %s: not a queue ID\n", id);
		return EX_USAGE;
	}
	if ((r = queue_find(q, id, sub, env, err, sizeof err)) == 1) {
		fprintf(stderr, "sendq: %s: no such message\n", id);
		return EX_NOINPUT;
	}
	if (r == -1) {
		fprintf(stderr, "sendq: %s\n", err);
		return errno == EACCES ? EX_NOPERM : EX_IOERR;
	}
	return EX_OK;
}

/* Prints s[0..len) with its control characters escaped, but those in
 * keep (util_escape): the queue holds text from outside. */
static void
show_escaped(const char *s, size_t len, const char *keep)
{
	struct buf	 b;

	buf_init(&b, 0);
	fputs(util_escape(&b, s, len, keep) == 0 ? buf_str(&b) : "?", stdout);
	buf_free(&b);
}

/*
 * A piece of the message text: CRLF printed as a line end, TAB and LF
 * as they are, every other control character (a bare CR too) escaped.
 * *cr says that the piece before ended in a CR.
 */
static void
show_text(const char *p, size_t len, bool *cr)
{
	const char	*end;
	size_t		 k;

	while (len > 0) {
		if (*cr) {
			*cr = false;
			if (*p != '\n')
				show_escaped("\r", 1, NULL);
		}
		end = memchr(p, '\r', len);
		k = end != NULL ? (size_t)(end - p) : len;
		show_escaped(p, k, "\t\n");
		if (end != NULL) {
			*cr = true;
			k++;
		}
		p += k;
		len -= k;
	}
}

/* The envelope of a message, then an empty line.  sub: failed/, or
 * NULL for the queue. */
static void
show_env(const struct queue_env *env, const char *sub)
{
	char	 when[64];
	size_t	 i;

	printf("id: %s%s\n", env->id, sub != NULL ? " (failed)" : "");
	printf("arrival: %s\n", util_rfc5322_date(env->arrival, when,
	    sizeof when));
	/* Addresses and replies came from outside: escaped (SPEC). */
	printf("sender: <");
	show_escaped(env->sender, strlen(env->sender), NULL);
	printf(">\nuid: %lu\naccount: ", (unsigned long)env->uid);
	show_escaped(env->account, strlen(env->account), NULL);
	printf("\nsize: %lld\n", (long long)env->size);
	printf("attempts: %u\n", env->attempts);
	if (env->next_attempt != 0 && sub == NULL)
		printf("next attempt: %s\n", util_rfc5322_date(
		    env->next_attempt, when, sizeof when));
	for (i = 0; i < env->nrcpts; i++) {
		printf("recipient: <");
		show_escaped(env->rcpts[i].addr, strlen(env->rcpts[i].addr),
		    NULL);
		printf("> %s", queue_env_state_name(env->rcpts[i].state));
		if (env->rcpts[i].reason != NULL) {
			printf(" (");
			show_escaped(env->rcpts[i].reason,
			    strlen(env->rcpts[i].reason), NULL);
			printf(")");
		}
		printf("\n");
	}
	printf("\n");
}

/* The message text read from fd, which is closed: EX_OK, or EX_IOERR
 * when it could not be read or printed whole. */
static int
show_data(int fd)
{
	/* Off the stack: the caller sets our stack limit (ulimit -s). */
	static char	 chunk[65536];
	ssize_t		 n;
	bool		 cr = false;

	/* The text too, but for its TABs and line ends (SPEC). */
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		show_text(chunk, (size_t)n, &cr);
	if (cr)
		show_escaped("\r", 1, NULL);
	close(fd);
	return fflush(stdout) == 0 && !ferror(stdout) && n == 0 ? EX_OK :
	    EX_IOERR;
}

static int
cmd_show(const struct conf *conf, const char *id)
{
	struct queue		*q;
	struct queue_env	 env;
	const char		*sub;
	char			 err[512];
	int			 ex, fd;

	if ((q = open_queue(conf, &ex)) == NULL)
		return ex;
	if ((ex = find_message(q, id, &sub, &env)) != EX_OK) {
		queue_free(q);
		return ex;
	}
	show_env(&env, sub);
	fflush(stdout);
	fd = queue_data_open(q, sub, env.id, err, sizeof err);
	queue_env_clear(&env);
	queue_free(q);
	if (fd == -1) {
		fprintf(stderr, "sendq: %s\n", err);
		return EX_IOERR;
	}
	return show_data(fd);
}

/* Removes messages, queued or failed; one being delivered is left. */
static int
cmd_delete(const struct conf *conf, int argc, char **argv)
{
	struct queue		*q;
	struct queue_msg	*m;
	struct queue_env	 env;
	const char		*sub;
	char			 err[512];
	int			 i, r, ex = EX_OK, e;

	if (argc == 0)
		usage();
	if ((q = open_queue(conf, &ex)) == NULL)
		return ex;
	for (i = 0; i < argc; i++) {
		if ((e = find_message(q, argv[i], &sub, &env)) != EX_OK) {
			ex = e;
			continue;
		}
		queue_env_clear(&env);
		if ((r = queue_open(q, sub, argv[i], &m, err,
		    sizeof err)) == 1) {
			fprintf(stderr, "sendq: %s: being delivered; try "
			    "again later\n", argv[i]);
			ex = EX_TEMPFAIL;
			continue;
		}
		if (r == -1 || queue_remove(m, err, sizeof err) == -1) {
			fprintf(stderr, "sendq: %s\n", err);
			ex = EX_IOERR;
		} else {
			log_info("%s: deleted by uid %lu", argv[i],
			    (unsigned long)getuid());
			printf("%s: deleted\n", argv[i]);
		}
		if (r == 0)
			queue_msg_free(m);
	}
	queue_free(q);
	return ex;
}

/*
 * SIGTERM and SIGINT end a flush or a queue run after the message in
 * progress: the handler only sets the flag that deliver_run() reads
 * (deliver_filter.stop) between messages.  set gets the two signals.
 */
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
catch_stop_signals(sigset_t *set)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/*
 * flush ID...: each message opened by its name, not by a pass over the
 * whole queue (sendmail runs this after every submission).  One that is
 * busy or gone is some runner's already.  SIGTERM and SIGINT end it
 * after the message in progress, as they end a queue run.
 */
static int
cmd_flush_ids(const struct conf *conf, char **ids, size_t nids,
    int told_fd)
{
	struct deliver		*d;
	struct deliver_report	 rep;
	sigset_t		 set;
	struct queue		*q;
	struct queue_msg	*m;
	char			 err[512];
	size_t			 i;
	int			 r, ex = EX_OK;
	bool			 tried = false;

	memset(&rep, 0, sizeof rep);
	if ((q = open_queue(conf, &ex)) == NULL)
		return ex;
	if ((d = deliver_new(conf)) == NULL) {
		fprintf(stderr, "sendq: out of memory\n");
		queue_free(q);
		return EX_TEMPFAIL;
	}
	if (told_fd != -1)
		deliver_set_told(d, told_caller, &told_fd);
	catch_stop_signals(&set);
	for (i = 0; i < nids && !stop_requested; i++) {
		r = queue_open(q, NULL, ids[i], &m, err, sizeof err);
		if (r == 1)
			continue;
		if (r == -1) {
			fprintf(stderr, "sendq: %s\n", err);
			ex = errno == EACCES ? EX_NOPERM : EX_IOERR;
			continue;
		}
		(void)deliver_msg(d, m, &rep);
		tried = true;
	}
	deliver_free(d);
	queue_free(q);
	/* A refusal was told already; anything else is told now.  Not
	 * tried (busy, gone): no word, and sendmail exits 0. */
	if (told_fd != -1 && tried && rep.outcome != DELIVER_FAILED) {
		unsigned char code = (unsigned char)told_code(&rep);

		(void)send(told_fd, &code, 1, MSG_NOSIGNAL);
	}
	return ex;
}

/* The wait between two runs, cut short by SIGTERM or SIGINT.  The flag
 * is read with the signals blocked and ppoll() unblocks them
 * atomically: a signal cannot slip in between and cost an interval. */
static void
run_wait(const sigset_t *set, long every)
{
	struct timespec	 ts;
	sigset_t	 old;

	sigprocmask(SIG_BLOCK, set, &old);
	if (!stop_requested) {
		ts.tv_sec = every;
		ts.tv_nsec = 0;
		(void)ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Runs the queue once, or every `every` seconds until SIGTERM or
 * SIGINT, which end it after the message in progress. */
static int
cmd_run(const struct conf *conf, struct deliver_filter *f, long every)
{
	struct deliver	*d;
	sigset_t	 set;
	int		 r, e;

	catch_stop_signals(&set);
	f->stop = &stop_requested;
	do {
		if ((d = deliver_new(conf)) == NULL) {
			errno = ENOMEM;
			r = -1;
			break;
		}
		r = deliver_run(d, f);
		e = errno;
		deliver_free(d);
		errno = e;
		if (r == -1 || every == 0)
			break;
		run_wait(&set, every);
	} while (!stop_requested);
	if (stop_requested)
		log_info("queue runner stopped by a signal");
	if (r == -1) {
		fprintf(stderr, "sendq: %s: %s\n", conf->queue_dir,
		    strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

/*
 * The options of flush and run: --id, --recipient and --sender restrict
 * the run to messages whose ID, a pending recipient or the sender
 * contain the text (sendmail -qI, -qR, -qS); run takes --every, flush
 * the internal --told-fd of sendmail -odi.  Returns the index of the
 * first argument that is not an option, or -1 after a message.
 */
static int
run_options(int argc, char **argv, bool run, struct deliver_filter *f,
    long *every, int *told_fd, bool *local)
{
	long long	 v;
	int		 i;

	for (i = 0; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (!run && strcmp(argv[i], "--no-daemon") == 0) {
			*local = true;
			i--;
			continue;
		}
		if (i + 1 == argc)
			usage();
		if (strcmp(argv[i], "--id") == 0)
			f->id_sub = argv[i + 1];
		else if (strcmp(argv[i], "--recipient") == 0)
			f->rcpt_sub = argv[i + 1];
		else if (strcmp(argv[i], "--sender") == 0)
			f->sender_sub = argv[i + 1];
		else if (run && strcmp(argv[i], "--every") == 0) {
			if ((*every = util_parse_duration(argv[i + 1])) == -1) {
				fprintf(stderr, "sendq: --every %s: bad "
				    "duration\n", argv[i + 1]);
				return -1;
			}
		} else if (!run && strcmp(argv[i], "--told-fd") == 0) {
			if (util_parse_ll(argv[i + 1], 0, INT_MAX, &v) == -1 ||
			    fcntl((int)v, F_GETFD) == -1) {
				fprintf(stderr, "sendq: --told-fd %s: not an "
				    "open descriptor\n", argv[i + 1]);
				return -1;
			}
			*told_fd = (int)v;
		} else
			usage();
	}
	return i;
}

/*
 * flush with a daemon: it makes the attempts (ending any hold) and
 * answers when they are over.  The exit status, or -1 when no daemon
 * answers (the flush is then ours).
 */
static int
flush_by_daemon(const struct conf *conf, char **ids, size_t nids)
{
	struct buf	 req;
	char		 line[IPC_LINE_MAX];
	size_t		 i;
	int		 fd, r;

	if ((fd = ipc_connect(conf->socket)) == -1)
		return -1;
	buf_init(&req, 0);
	r = buf_addstr(&req, "FLUSH\n");
	for (i = 0; i < nids && r == 0; i++)
		r = buf_printf(&req, "ID %s\n", ids[i]);
	if (r == 0)
		r = buf_addstr(&req, "GO\n");
	if (r == 0)
		r = ipc_write(fd, req.data, req.len, 10000);
	buf_free(&req);
	/* As long as the attempts take: each is bounded by timeouts. */
	if (r == -1 || ipc_read_line(fd, line, sizeof line, INT_MAX) == -1) {
		close(fd);
		if (r == -1)
			return -1;
		fprintf(stderr, "sendq: the daemon stopped before the flush "
		    "was over\n");
		return EX_TEMPFAIL;
	}
	close(fd);
	if (strncmp(line, "DONE ", 5) == 0) {
		log_trace("the daemon attempted %s message(s)", line + 5);
		return EX_OK;
	}
	fprintf(stderr, "sendq: the daemon refused the flush: %s\n",
	    strncmp(line, "ERR ", 4) == 0 ? line + 4 : line);
	return strstr(line, "permission") != NULL ? EX_NOPERM :
	    EX_UNAVAILABLE;
}

/* flush [options] [ID...] and run [options]. */
static int
cmd_flush_or_run(const struct conf *conf, bool run, int argc, char **argv)
{
	struct deliver_filter	 f;
	long			 every = 0;
	int			 i, told_fd = -1;
	bool			 filters, local = false;

	memset(&f, 0, sizeof f);
	if ((i = run_options(argc, argv, run, &f, &every, &told_fd,
	    &local)) == -1)
		return EX_USAGE;
	argc -= i;
	argv += i;
	filters = f.id_sub != NULL || f.rcpt_sub != NULL ||
	    f.sender_sub != NULL;
	if ((run && argc > 0) || (filters && argc > 0) ||
	    (told_fd != -1 && argc != 1))
		usage();
	for (i = 0; i < argc; i++)
		if (!queue_id_valid(argv[i])) {
			fprintf(stderr, "sendq: %s: not a queue ID\n",
			    argv[i]);
			return EX_USAGE;
		}
	if (!run && told_fd == -1 && !local && !filters &&
	    (i = flush_by_daemon(conf, argv, (size_t)argc)) != -1)
		return i;
	if (argc > 0)
		return cmd_flush_ids(conf, argv, (size_t)argc, told_fd);
	f.force = !run;
	return cmd_run(conf, &f, every);
}

/* Before anything else: no core file, no ptrace(2) by the caller. */
static void
harden(void)
{
	struct rlimit	 none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_CORE, &none) == -1) {
		fprintf(stderr, "sendq: cannot make the process undumpable: "
		    "%s\n", strerror(errno));
		exit(EX_OSERR);
	}
}

/* sendq status [--json | --prometheus]: from the spool (SPEC
 * "Monitoring"). */
/* How long sendq status waits for the daemon's answer. */
#define STATUS_ASK_MS	2000

static int
cmd_status(const struct conf *conf, int argc, char **argv)
{
	int		(*print)(FILE *, const struct status *, time_t) =
			    status_print_text;
	struct status	 st;
	const char	*output = NULL;
	char		 err[1024];
	int		 r, i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			print = status_print_json;
		else if (strcmp(argv[i], "--prometheus") == 0)
			print = status_print_prometheus;
		else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
			output = argv[++i];
		else
			return -1;
	if (status_read(conf, &st, err, sizeof err) == -1) {
		r = errno == EACCES ? EX_NOPERM : EX_IOERR;
		fprintf(stderr, "sendq: %s\n", err);
		status_free(&st);
		return r;
	}
	/* The daemon's live figures when it runs; else the spool's. */
	if (status_ask(conf, &st, STATUS_ASK_MS, err, sizeof err) == -1) {
		fprintf(stderr, "sendq: %s\n", err);
		status_free(&st);
		return EX_NOPERM;
	}
	if (output != NULL) {
		r = status_output(output, print, &st, util_now(), err,
		    sizeof err);
		if (r == -1)
			fprintf(stderr, "sendq: %s\n", err);
	} else
		r = print(stdout, &st, util_now());
	status_free(&st);
	return r == -1 ? EX_IOERR : EX_OK;
}

/* The command with its arguments: its exit status, or -1 when they
 * make no command (a usage error). */
static int
dispatch(const struct conf *conf, const char *cmd, int argc, char **argv)
{
	int	 ex;

	if (strcmp(cmd, "check") == 0 && argc == 0)
		return cmd_check(conf);
	if (strcmp(cmd, "check") == 0 && argc == 1 &&
	    strcmp(argv[0], "--connect") == 0) {
		ex = cmd_check(conf);
		return ex == EX_OK ? cmd_connect(conf) : ex;
	}
	if (strcmp(cmd, "oauth2") == 0)
		return cmd_oauth2(conf, argc, argv);
	if (strcmp(cmd, "queue") == 0)
		return cmd_queue(conf, argc, argv);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(conf, argc, argv);
	if (strcmp(cmd, "show") == 0 && argc == 1)
		return cmd_show(conf, argv[0]);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(conf, argc, argv);
	if (strcmp(cmd, "flush") == 0 || strcmp(cmd, "run") == 0)
		return cmd_flush_or_run(conf, strcmp(cmd, "run") == 0, argc,
		    argv);
	return -1;
}

/*
 * The configuration did not load: 78, but 77 for a command that works
 * on the queue when the caller may not read the file (SPEC "Security
 * model": outside root and group sendq, these exit 77).
 */
static int
conf_failed(const char *path, const char *cmd, const char *err)
{
	static const char *const spool_cmds[] = { "queue", "show", "flush",
	    "delete", "status", "run" };
	size_t	 i;

	for (i = 0; i < NELEM(spool_cmds); i++)
		if (strcmp(cmd, spool_cmds[i]) == 0)
			break;
	if (i < NELEM(spool_cmds) && faccessat(AT_FDCWD, path, R_OK,
	    AT_EACCESS) == -1 && errno == EACCES) {
		fprintf(stderr, "sendq: %s: %s: sendq %s is for root and "
		    "group " SENDQ_GROUP "\n", path, strerror(EACCES), cmd);
		return EX_NOPERM;
	}
	fprintf(stderr, "sendq: %s\n", err);
	return EX_CONFIG;
}

int
main(int argc, char **argv)
{
	struct conf	*conf;
	const char	*default_path = SENDQ_CONF_PATH;
	const char	*path = default_path, *cmd;
	char		 err[1024];
	int		 i = 1, ex;
	bool		 verbose = false;

	harden();
	signal(SIGPIPE, SIG_IGN);
	umask(007);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[i], "--help") == 0)
			usage_to(stdout, EX_OK);
		else
			usage();
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	if (strcmp(cmd, "version") == 0) {
		printf("sendq %s\n", SENDQ_VERSION);
		return EX_OK;
	}
	if (path != default_path && access(path, F_OK) == -1) {
		fprintf(stderr, "sendq: %s: %s\n", path, strerror(errno));
		return EX_CONFIG;
	}
	if (conf_load(path, &conf, err, sizeof err) == -1)
		return conf_failed(path, cmd, err);
	(void)conf_log_open(conf, "sendq");
	log_set_trace(verbose);
	if (strcmp(cmd, "daemon") == 0 && argc == i)
		ex = cmd_daemon(&conf, path);
	else if ((ex = dispatch(conf, cmd, argc - i, argv + i)) == -1) {
		conf_free(conf);
		usage();
	}
	conf_free(conf);
	log_close();
	return ex;
}
