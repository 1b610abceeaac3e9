/*
 * reused_conn: the floor of make bench's W2 and W4 (delivery rate).
 *
 *   reused_conn HOST PORT CA USER PASSWORD FILE...
 *
 * Opens one SMTP session with lib/smtp (STARTTLS, the certificate
 * verified against CA, AUTH PLAIN as USER), then sends each FILE, a
 * message in canonical CRLF text (a spool's ID.msg), as one
 * transaction from bench@example.com to bob@example.org on that same
 * session, and says QUIT.  Nothing is queued, locked, logged or
 * rewritten: what is left is the cost of the SMTP client and the
 * server alone, over a connection that is never reopened, which is
 * what a delivery engine that owns its sessions can at best approach.
 *
 * Prints "SENT N CONNECTIONS 1" on success.  Exit status 1 on any
 * error (a refused transaction included), with the reason on stderr.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtp.h"

/* One message over the open session.  0, or -1 with the reason said. */
static int
send_file(struct smtp_client *c, const char *path)
{
	struct smtp_rcpt	 rcpt;
	struct smtp_msg		 msg;
	struct smtp_result	 res;
	struct stat		 st;
	int			 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		perror(path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&rcpt, 0, sizeof rcpt);
	rcpt.addr = "bob@example.org";
	memset(&msg, 0, sizeof msg);
	msg.sender = "bench@example.com";
	msg.rcpts = &rcpt;
	msg.nrcpts = 1;
	msg.fd = fd;
	msg.size = st.st_size;
	r = smtp_send(c, &msg, &res);
	close(fd);
	if (r == -1 || res.cls != SMTP_OK) {
		fprintf(stderr, "reused_conn: %s: %s\n", path, res.what);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	struct smtp_client	*c;
	int			 i;

	if (argc < 6) {
		fprintf(stderr, "usage: reused_conn host port ca user "
		    "password file ...\n");
		return 1;
	}
	memset(&p, 0, sizeof p);
	p.host = argv[1];
	p.port = argv[2];
	p.helo = "client.example.com";
	p.timeout_ms = 10000;
	p.tls_mode = SMTP_TLS_STARTTLS;
	p.tls.verify = true;
	p.tls.ca_file = argv[3];
	p.tls_verify_required = true;
	p.mechs[0] = SASL_PLAIN;
	p.nmechs = 1;
	p.user = argv[4];
	p.secret = argv[5];
	if ((c = smtp_client_new(&p)) == NULL) {
		fprintf(stderr, "reused_conn: out of memory\n");
		return 1;
	}
	if (smtp_open(c, &res) == -1) {
		fprintf(stderr, "reused_conn: %s\n", res.what);
		smtp_client_free(c);
		return 1;
	}
	for (i = 6; i < argc; i++)
		if (send_file(c, argv[i]) == -1) {
			smtp_client_free(c);
			return 1;
		}
	smtp_close(c);
	smtp_client_free(c);
	printf("SENT %d CONNECTIONS 1\n", argc - 6);
	return 0;
}
