/*
 * buf: growable byte buffer with a hard cap.  See buf.h.
 *
 * Wiping is util_wipe (explicit_bzero(3)), the project's one: this
 * generic module does not depend on OpenSSL, and the set-group-ID
 * sendmail links it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static void	*(*buf_realloc_fn)(void *, size_t) = realloc;
static void	 (*buf_free_fn)(void *) = free;

void
buf_set_allocator(void *(*realloc_fn)(void *, size_t),
    void (*free_fn)(void *))
{
	buf_realloc_fn = realloc_fn != NULL ? realloc_fn : realloc;
	buf_free_fn = free_fn != NULL ? free_fn : free;
}

void
buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->cap = cap ? cap : SIZE_MAX - 1;
	b->secret = false;
}

void
buf_init_secret(struct buf *b, size_t cap)
{
	buf_init(b, cap);
	b->secret = true;
}

void
buf_set_secret(struct buf *b)
{
	b->secret = true;
}

void
buf_free(struct buf *b)
{
	if (b->secret)
		util_wipe(b->data, b->size);
	buf_free_fn(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void
buf_wipe(struct buf *b)
{
	util_wipe(b->data, b->size);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	if (b->secret)
		util_wipe(b->data, b->len);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Storage of nsize bytes holding what b holds.  A secret is never left
 * behind by realloc: new storage, a copy, the old wiped and freed. */
static char *
buf_move(struct buf *b, size_t nsize)
{
	char	*p;

	if (!b->secret || b->data == NULL)
		return buf_realloc_fn(b->data, nsize);
	if ((p = buf_realloc_fn(NULL, nsize)) == NULL)
		return NULL;
	memcpy(p, b->data, b->len + 1);
	util_wipe(b->data, b->size);
	buf_free_fn(b->data);
	return p;
}

/* Make room for need more bytes plus the terminating NUL. */
static int
buf_grow(struct buf *b, size_t need)
{
	size_t	 want, nsize;
	char	*p;

	if (need > b->cap - b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	want = b->len + need + 1;
	if (want <= b->size)
		return 0;
	nsize = b->size ? b->size : 64;
	while (nsize < want)
		nsize = nsize > SIZE_MAX / 2 ? want : nsize * 2;
	if ((p = buf_move(b, nsize)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->size = nsize;
	return 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	if (buf_grow(b, n) == -1)
		return NULL;
	return b->data + b->len;
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if (buf_grow(b, (size_t)n) == -1)
		return -1;
	if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap) != n) {
		b->data[b->len] = '\0';
		errno = EINVAL;
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	if (b->secret)
		util_wipe(b->data + b->len - n, n);	/* the tail let go */
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_detach(struct buf *b)
{
	char	*p = b->data;

	b->data = NULL;
	b->len = b->size = 0;
	return p;
}
