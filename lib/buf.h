/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Anything that comes from outside (a protocol line, a header section)
 * is collected in a buf whose cap bounds how much memory the peer can
 * make us spend.  The contents are always NUL-terminated (the NUL is not
 * counted in len), so text can be handed to string functions, but the
 * data itself may hold NUL bytes: use len.
 *
 * A buf that holds a secret (a password, a token, a response built from
 * them) is made with buf_init_secret or marked with buf_set_secret
 * before the secret goes in.  Then nothing of it lingers in freed
 * memory: growing allocates anew, copies and wipes the old storage
 * before freeing it (OpenBSD's recallocarray), and buf_free, buf_reset
 * and buf_consume wipe what they let go.  buf_detach hands the storage
 * over as it is: the new owner wipes it.
 *
 * Errors: the append functions return -1 with errno ENOMEM when memory
 * runs out and EMSGSIZE when the cap would be exceeded; the buffer is
 * then unchanged.
 */
#ifndef SENDQ_BUF_H
#define SENDQ_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;
	size_t	 size;		/* allocated bytes */
	size_t	 cap;		/* most len may reach; 0 = SIZE_MAX */
	bool	 secret;	/* wiped before it is freed or moved */
};

void	buf_init(struct buf *b, size_t cap);
/* buf_init for a buffer that will hold a secret. */
void	buf_init_secret(struct buf *b, size_t cap);
/* Marks b as holding a secret from now on (it stays marked after
 * buf_free); its earlier storage is not revisited. */
void	buf_set_secret(struct buf *b);
/* Frees the storage (wiped first when secret); the buf may be reused
 * after buf_init. */
void	buf_free(struct buf *b);
/* Like buf_free, but overwrites the contents first, secret or not. */
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

/*
 * For the unit tests: the allocator every buf uses, realloc(3) and
 * free(3) unless replaced, so that a test can look at memory as it is
 * freed.  A replacement must hand out memory that free(3) accepts
 * (buf_detach's callers free it).  NULL restores the default.
 */
void	buf_set_allocator(void *(*realloc_fn)(void *, size_t),
	    void (*free_fn)(void *));

#endif
