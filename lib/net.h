/*
 * net: resolve a host name and connect to one of its addresses.
 *
 * Every address of the name is tried in the resolver's order (IPv6 and
 * IPv4), each within the connect timeout, until one accepts.  The socket
 * returned is non-blocking, close-on-exec, with TCP_NODELAY set: the
 * SMTP client sends each pipelined group in one write, so Nagle's
 * algorithm would only add delay.
 */
#ifndef SENDQ_NET_H
#define SENDQ_NET_H

#include <stddef.h>

/* Returns the socket, or -1 with the reason for the last address tried
 * in err ("connect to HOST[IP]:PORT: Connection refused").  peer gets
 * "HOST[IP]:PORT" of the address that answered. */
int	net_connect(const char *host, const char *port, int timeout_ms,
	    char *peer, size_t peerlen, char *err, size_t errlen);

#endif
