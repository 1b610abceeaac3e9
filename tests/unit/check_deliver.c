/*
 * Unit tests: what kind of trouble deliver_msg() reports for an attempt
 * (struct deliver_report's trouble), which the daemon's account states
 * rest on: a server's refusal of AUTH (535, 534, 530, an enhanced code
 * 5.7.x or 4.7.x) against every other way of having no session, and a
 * transaction that ran whatever its recipients got.
 *
 * Each test queues one message in a temporary spool and has it
 * delivered to a scripted server, a child process on 127.0.0.1 that
 * answers each command with the next reply of its script, without TLS
 * (tls = none lets AUTH PLAIN go in clear, as SPEC allows).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "deliver.h"
#include "helper.h"
#include "queue.h"
#include "suites.h"

#define T_EHLO_AUTH	"250-t.example\r\n250 AUTH PLAIN"

struct t_server {
	pid_t		 pid;
	int		 port;
};

static void
t_say(int fd, const char *reply)
{
	size_t	 len = strlen(reply);

	if (write(fd, reply, len) != (ssize_t)len ||
	    write(fd, "\r\n", 2) != 2)
		return;		/* the client hung up: nothing to do */
}

/* The next reply of the script, or "250 ok" once it is spent. */
static const char *
t_next(const char *const *script, size_t *i)
{
	return script[*i] != NULL ? script[(*i)++] : "250 ok";
}

/* One session: the greeting, then a reply to each command (and to the
 * end of the data after a 354) until QUIT or the end of the connection. */
static void
t_serve(int lfd, const char *const *script)
{
	const char	*r;
	char		 line[4096];
	FILE		*in;
	size_t		 i = 0;
	int		 fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1 ||
	    (in = fdopen(dup(fd), "r")) == NULL)
		_exit(2);
	t_say(fd, t_next(script, &i));
	while (fgets(line, sizeof line, in) != NULL) {
		if (strncasecmp(line, "QUIT", 4) == 0) {
			t_say(fd, "221 bye");
			break;
		}
		t_say(fd, r = t_next(script, &i));
		if (strncmp(r, "354", 3) != 0)
			continue;
		while (fgets(line, sizeof line, in) != NULL &&
		    strcmp(line, ".\r\n") != 0)
			;
		t_say(fd, t_next(script, &i));
	}
	_exit(0);
}

/* A listening socket on 127.0.0.1 and its port. */
static int
t_listen(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A server for one session of that script. */
static struct t_server
t_server(const char *const *script)
{
	struct t_server	 s;
	int		 fd = t_listen(&s.port);

	ck_assert_int_ne(s.pid = fork(), -1);
	if (s.pid == 0)
		t_serve(fd, script);
	close(fd);
	return s;
}

/* A port on which nothing listens (bound a moment ago, then closed). */
static int
t_dead_port(void)
{
	int	 port, fd = t_listen(&port);

	close(fd);
	return port;
}

static void
t_server_end(struct t_server *s)
{
	int	 st;

	if (s->pid <= 0)
		return;
	if (waitpid(s->pid, &st, 0) == s->pid)
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "the scripted server failed");
	s->pid = 0;
}

/* The configuration: account "main" at these hosts ("{ ... }"). */
static void
t_setup(const char *hosts, const char *password)
{
	t_conf_setup("deliver", "account \"main\" {\n host = %s\n"
	    " tls = none\n auth = plain\n user = \"u\"\n %s\n timeout = 5s\n"
	    "}\n", hosts, password != NULL ? password : "password = \"pw\"");
}

static struct queue_msg *
t_msg(void)
{
	static const char	 text[] = "Subject: t\r\n\r\nbody\r\n";
	struct queue		*q;
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct queue_msg	*m;
	char			 err[512];

	ck_assert_ptr_nonnull(q = queue_new(t_queue, QUEUE_CREATE, err,
	    sizeof err));
	ck_assert_ptr_nonnull(qs = queue_sub_new(q, err, sizeof err));
	queue_free(q);
	ck_assert_int_eq(queue_sub_write(qs, text, sizeof text - 1), 0);
	memset(&env, 0, sizeof env);
	env.arrival = time(NULL);
	env.uid = 33;
	env.sender = strdup("www-data@example.com");
	env.account = strdup("main");
	ck_assert_int_eq(queue_env_add_rcpt(&env, "to@example.org"), 0);
	ck_assert_int_eq(queue_sub_commit(qs, &env, err, sizeof err), 0);
	ck_assert_ptr_nonnull(m = queue_sub_msg(qs, &env));
	return m;
}

/* One message to account "main" as t_setup() made it. */
static enum deliver_trouble
t_deliver(struct deliver *d, enum deliver_outcome want,
    struct deliver_report *rep)
{
	ck_assert_int_eq(deliver_msg(d, t_msg(), rep), want);
	ck_assert_int_eq(rep->outcome, want);
	return rep->trouble;
}

/* The reply to AUTH decides: a refusal of the credentials, or not. */
static const struct {
	const char		*reply;
	enum deliver_trouble	 want;
} auth_replies[] = {
	{ "535 5.7.8 Authentication credentials invalid",
	    DELIVER_TROUBLE_AUTH },
	{ "535 Authentication failed", DELIVER_TROUBLE_AUTH },
	{ "534 5.7.9 Authentication mechanism is too weak",
	    DELIVER_TROUBLE_AUTH },
	{ "530 5.7.0 Authentication required", DELIVER_TROUBLE_AUTH },
	{ "454 4.7.0 Temporary authentication failure",
	    DELIVER_TROUBLE_AUTH },
	{ "550 5.7.1 Access denied", DELIVER_TROUBLE_AUTH },
	{ "421 4.7.0 Too many failed logins", DELIVER_TROUBLE_AUTH },
	{ "501 5.5.2 Cannot decode the response", DELIVER_TROUBLE_SESSION },
	{ "454 4.3.0 Try again later", DELIVER_TROUBLE_SESSION },
};

START_TEST(trouble_at_auth)
{
	const char		*script[] = { "220 t.example", T_EHLO_AUTH,
	    auth_replies[_i].reply, NULL };
	struct t_server		 srv = t_server(script);
	struct deliver_report	 rep;
	struct deliver		*d;
	char			 hosts[64];

	snprintf(hosts, sizeof hosts, "\"127.0.0.1:%d\"", srv.port);
	t_setup(hosts, NULL);
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_msg(t_deliver(d, DELIVER_DEFERRED, &rep) ==
	    auth_replies[_i].want, "%s: trouble %d", auth_replies[_i].reply,
	    (int)rep.trouble);
	ck_assert_ptr_nonnull(strstr(rep.reason, auth_replies[_i].reply + 4));
	deliver_free(d);
	t_server_end(&srv);
	t_teardown();
}
END_TEST

/* No session, and AUTH has nothing to do with it. */
static const char *const session_scripts[][4] = {
	{ "554 5.3.2 No service here", NULL },
	{ "220 t.example", "502 5.5.1 No EHLO", "502 5.5.1 No HELO", NULL },
	{ "220 t.example", "250 t.example", NULL },	/* no AUTH offered */
	{ "421 4.3.2 Concurrent connections limit exceeded", NULL },
};

START_TEST(trouble_without_session)
{
	struct t_server		 srv = t_server(session_scripts[_i]);
	struct deliver_report	 rep;
	struct deliver		*d;
	char			 hosts[64];

	snprintf(hosts, sizeof hosts, "\"127.0.0.1:%d\"", srv.port);
	t_setup(hosts, NULL);
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_int_eq(t_deliver(d, DELIVER_DEFERRED, &rep),
	    DELIVER_TROUBLE_SESSION);
	deliver_free(d);
	t_server_end(&srv);
	t_teardown();
}
END_TEST

START_TEST(trouble_connect_and_secret)
{
	struct deliver_report	 rep;
	struct deliver		*d;
	char			 hosts[64];

	snprintf(hosts, sizeof hosts, "\"127.0.0.1:%d\"", t_dead_port());
	t_setup(hosts, NULL);
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_int_eq(t_deliver(d, DELIVER_DEFERRED, &rep),
	    DELIVER_TROUBLE_SESSION);
	ck_assert_ptr_nonnull(strstr(rep.reason, "connect"));
	deliver_free(d);
	t_teardown();

	/* A secret that cannot be read: no connection at all. */
	snprintf(hosts, sizeof hosts, "\"127.0.0.1:%d\"", t_dead_port());
	t_setup(hosts, "password_file = \"/nonexistent/sendq-secret\"");
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_int_eq(t_deliver(d, DELIVER_DEFERRED, &rep),
	    DELIVER_TROUBLE_SESSION);
	ck_assert_ptr_nonnull(strstr(rep.reason, "password_file"));
	deliver_free(d);
	t_teardown();
}
END_TEST

/* A refusal of AUTH by one host is the account's trouble even when
 * another host is down, before or after it; the account's next message
 * in the run reports it too, without knocking again. */
START_TEST(trouble_auth_among_hosts)
{
	const char		*script[] = { "220 t.example", T_EHLO_AUTH,
	    "535 5.7.8 Bad credentials", NULL };
	struct t_server		 srv = t_server(script);
	struct deliver_report	 rep;
	struct deliver		*d;
	char			 hosts[96];
	int			 dead = t_dead_port();

	if (_i == 0)
		snprintf(hosts, sizeof hosts, "{ \"127.0.0.1:%d\", "
		    "\"127.0.0.1:%d\" }", srv.port, dead);
	else
		snprintf(hosts, sizeof hosts, "{ \"127.0.0.1:%d\", "
		    "\"127.0.0.1:%d\" }", dead, srv.port);
	t_setup(hosts, NULL);
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_int_eq(t_deliver(d, DELIVER_DEFERRED, &rep),
	    DELIVER_TROUBLE_AUTH);
	ck_assert_ptr_nonnull(strstr(rep.reason, "535 5.7.8 Bad credentials"));
	ck_assert_int_eq(t_deliver(d, DELIVER_DEFERRED, &rep),
	    DELIVER_TROUBLE_AUTH);
	ck_assert_ptr_nonnull(strstr(rep.reason, "535 5.7.8 Bad credentials"));
	deliver_free(d);
	t_server_end(&srv);
	t_teardown();
}
END_TEST

/* A transaction ran: no trouble, whatever the recipient got. */
START_TEST(trouble_none)
{
	const char		*sent[] = { "220 t.example", T_EHLO_AUTH,
	    "235 2.7.0 ok", "250 ok", "250 ok", "354 go", "250 queued",
	    NULL };
	const char		*later[] = { "220 t.example", T_EHLO_AUTH,
	    "235 2.7.0 ok", "250 ok", "451 4.3.0 Later", NULL };
	struct t_server		 srv = t_server(_i == 0 ? sent : later);
	struct deliver_report	 rep;
	struct deliver		*d;
	char			 hosts[64];

	snprintf(hosts, sizeof hosts, "\"127.0.0.1:%d\"", srv.port);
	t_setup(hosts, NULL);
	ck_assert_ptr_nonnull(d = deliver_new(t_conf));
	ck_assert_int_eq(t_deliver(d, _i == 0 ? DELIVER_SENT :
	    DELIVER_DEFERRED, &rep), DELIVER_TROUBLE_NONE);
	deliver_free(d);
	t_server_end(&srv);
	t_teardown();
}
END_TEST

Suite *
deliver_suite(void)
{
	Suite	*s = suite_create("deliver");
	TCase	*tc;

	/* SIGPIPE would end a test whose server hung up first. */
	signal(SIGPIPE, SIG_IGN);
	tc = tcase_create("trouble");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, trouble_at_auth, 0,
	    (int)(sizeof auth_replies / sizeof auth_replies[0]));
	tcase_add_loop_test(tc, trouble_without_session, 0,
	    (int)(sizeof session_scripts / sizeof session_scripts[0]));
	tcase_add_test(tc, trouble_connect_and_secret);
	tcase_add_loop_test(tc, trouble_auth_among_hosts, 0, 2);
	tcase_add_loop_test(tc, trouble_none, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
