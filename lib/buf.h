/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Anything that comes from outside (a protocol line, a header section)
 * is collected in a buf whose cap bounds how much memory the peer can
 * make us spend.  The contents are always NUL-terminated (the NUL is not
 * counted in len), so text can be handed to string functions, but the
 * data itself may hold NUL bytes: use len.
 *
 * Errors: the append functions return -1 with errno ENOMEM when memory
 * runs out and EMSGSIZE when the cap would be exceeded; the buffer is
 * then unchanged.
 */
#ifndef SENDQ_BUF_H
#define SENDQ_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;
	size_t	 size;		/* allocated bytes */
	size_t	 cap;		/* most len may reach; 0 = SIZE_MAX */
};

void	buf_init(struct buf *b, size_t cap);
/* Frees the storage; the buf may be reused after buf_init. */
void	buf_free(struct buf *b);
/* Like buf_free, but overwrites the contents first (secrets). */
void	buf_wipe(struct buf *b);
void	buf_reset(struct buf *b);	/* len = 0, storage kept */
int	buf_add(struct buf *b, const void *data, size_t len);
int	buf_addstr(struct buf *b, const char *s);
int	buf_addch(struct buf *b, char c);
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Makes room for n more bytes and returns where they go; the caller
 * writes them and then adds n to len.  NULL (errno set) on failure. */
char	*buf_reserve(struct buf *b, size_t n);
/* Removes the first n bytes. */
void	buf_consume(struct buf *b, size_t n);
/* The contents as a string ("" when empty); owned by the buf. */
const char *buf_str(const struct buf *b);
/* Hands the storage to the caller (free() it) and resets the buf; NULL
 * when empty. */
char	*buf_detach(struct buf *b);

#endif
