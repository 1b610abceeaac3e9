/*
 * net: connect with a timeout to every address of a name.  See net.h.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static int
net_try(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd	 pfd;
	socklen_t	 len;
	int		 fd, r, soerr, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (r == -1)
		goto fail;
	len = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

int
net_connect(const char *host, const char *port, int timeout_ms,
    char *peer, size_t peerlen, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 ip[NI_MAXHOST];
	int		 fd = -1, r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	r = getaddrinfo(host, port, &hints, &res);
	if (r == EAI_NONAME || r == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 and 127.0.0.1 on hosts with
		 * only loopback configured; ask again without it. */
		hints.ai_flags = 0;
		r = getaddrinfo(host, port, &hints, &res);
	}
	if (r != 0) {
		snprintf(err, errlen, "connect to %s:%s: %s", host, port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof ip,
		    NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(ip, sizeof ip, "?");
		if ((fd = net_try(ai, timeout_ms)) != -1) {
			snprintf(peer, peerlen, "%s[%s]:%s", host, ip, port);
			break;
		}
		snprintf(err, errlen, "connect to %s[%s]:%s: %s", host, ip,
		    port, strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}
