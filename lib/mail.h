/*
 * mail: turns what a local program writes into a canonical message in
 * the spool.
 *
 * Input may end its lines in LF, CRLF or a lone CR; what is written ends
 * every line in CRLF.  NUL bytes are removed.  Lines longer than 998
 * octets are broken: header lines are folded at the last blank before
 * the limit (or with an inserted blank where there is none), body lines
 * get a line break after 998 octets.  Without -i a line holding a single
 * "." ends the input, as in sendmail.  Lines are never un-stuffed.
 *
 * The header section is held in memory (up to MAIL_HEADER_MAX); the body
 * is streamed, so memory does not grow with the message.  Fix-ups: a
 * Received: line on top; From:, Date: and Message-ID: when missing; Bcc:
 * and Resent-Bcc: removed; bare names in From:, To:, Cc:, Reply-To:,
 * Sender: (and their Resent- forms) qualified with the domain; the From:
 * addresses replaced when the account asks (rewrite_header_from), or
 * the whole From: replaced by a generated one when the caller may not
 * choose it (allow_from_override).  Every other header, and every other
 * byte of those, is written as it came (but for its line ending).
 *
 * rewrite_header_from (header_from): each From: becomes the one mailbox
 * header_from, under the name of the first of its mailboxes that has
 * one: a display name as written, or the comment beside a bare address
 * ("root (Cron Daemon)" gives "Cron Daemon"), made a phrase.  Unless the
 * message has a Reply-To:, or From: named only header_from, the first
 * From:'s text, qualified, follows it as a Reply-To:, so that replies
 * still reach the author.
 */
#ifndef SENDQ_MAIL_H
#define SENDQ_MAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "queue.h"

#define MAIL_HEADER_MAX	(1024 * 1024)

struct mail_params {
	const char	*hostname;	/* Received:, Message-ID: */
	const char	*queue_id;
	time_t		 now;
	uid_t		 uid;
	const char	*from_addr;	/* for a generated From: */
	const char	*fullname;	/* its display name, or NULL */
	const char	*domain;	/* qualifies bare names in headers */
	const char	*header_from;	/* replaces the From: addresses;
					 * Reply-To: keeps them */
	bool		 drop_from;	/* a From: of the caller's is replaced */
	bool		 extract_rcpts;	/* -t */
	bool		 dot_ends;	/* no -i */
	uint64_t	 max_size;	/* 0: no limit */
};

struct mail_result {
	struct addr_list rcpts;		/* from the headers, with -t */
	bool		 eight_bit;
	char		*message_id;	/* as written, without <>; free it */
};

enum mail_status {
	MAIL_OK,
	MAIL_ERR_READ,		/* reading the input failed */
	MAIL_ERR_WRITE,		/* writing the spool failed (errno) */
	MAIL_ERR_SIZE,		/* over max_size */
	MAIL_ERR_HEADERS,	/* header section over MAIL_HEADER_MAX */
	MAIL_ERR_ADDRESS,	/* -t: a malformed address header */
	MAIL_ERR_NOMEM,
};

/*
 * Where the message comes from: read() returns bytes read, 0 at the end,
 * or -1 with errno.  mail_fd_source() reads a file descriptor (sendmail
 * -bm); the -bs server supplies DATA content already un-stuffed.
 */
struct mail_source {
	ssize_t	(*read)(void *ctx, void *data, size_t len);
	void	*ctx;
};

void		 mail_fd_source(struct mail_source *src, int *fd);

/* Reads src to its end (or the "." line) into qs.  err names the
 * problem on failure.  res must be freed with mail_result_free either
 * way. */
enum mail_status mail_read(const struct mail_source *src,
		    const struct mail_params *p, struct queue_sub *qs,
		    struct mail_result *res, char *err, size_t errlen);
void		 mail_result_free(struct mail_result *res);

/* A display name as a phrase: atoms as they are, otherwise a quoted
 * string, or an RFC 2047 encoded word when it holds 8-bit octets. */
int		 mail_phrase(struct buf *out, const char *name);

#endif
