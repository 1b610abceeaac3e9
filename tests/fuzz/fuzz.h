/*
 * Helpers shared by the libFuzzer harnesses in tests/fuzz.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput (and, where
 * it needs set-up, LLVMFuzzerInitialize); fuzz.mk links it with the
 * library built for fuzzing and with common.c.  A harness checks, besides
 * the sanitizers, the properties its parser promises: a failed check
 * calls fuzz_fail(), which aborts so that libFuzzer keeps the input.
 */
#ifndef SENDQ_FUZZ_H
#define SENDQ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh private directory under $SENDQ_FUZZ_TMP, else /dev/shm (or
 * /tmp), removed with everything in it when the process exits. */
const char	*fuzz_tmpdir(void);
/* Removes every file below dir; the directories stay. */
void		 fuzz_empty_dir(const char *dir);

/* Writes data into an anonymous file (memfd, reused between runs) and
 * returns a path that opens it: "/proc/self/fd/N".  slot picks one of
 * a few files, for harnesses that need two. */
const char	*fuzz_file(int slot, const void *data, size_t len);

/* Logging to fuzz_tmpdir()/log, trace off: harnesses must not spam
 * stderr.  fuzz_log_trim() empties the file (call it after each run). */
/* An anonymous file holding text (a message body for the client); the
 * run fails when it cannot be made. */
int		 fuzz_memfd(const char *text, size_t len);
void		 fuzz_quiet(void);
void		 fuzz_log_trim(void);

/* Aborts with the message on stderr: a property did not hold. */
void		 fuzz_fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__VA_ARGS__);					\
} while (0)

/* True when s[0..len) holds an octet below 0x20 or 0x7f. */
bool		 fuzz_has_control(const char *s, size_t len);

/* A NUL-terminated copy (malloc) of data, so that ASan sees reads past
 * its end.  Never NULL (aborts). */
char		*fuzz_strndup(const uint8_t *data, size_t len);

/* An exact copy (malloc) of data, with no terminator: ASan then sees
 * any read past len.  Never NULL (aborts). */
char		*fuzz_memdup(const uint8_t *data, size_t len);

/*
 * Splits the input at the first occurrence of sep: *a gets what comes
 * before, *b what follows.  Without sep, everything is *a and *b is
 * empty.
 */
void		 fuzz_split(const uint8_t *data, size_t len, uint8_t sep,
		    const uint8_t **a, size_t *alen, const uint8_t **b,
		    size_t *blen);

/*
 * A scripted SMTP server for the client harnesses.  common.c defines
 * net_connect() (so lib/net.c is not linked): it returns one end of a
 * socket pair whose other end has sent script and then shut down its
 * writing side; what the client sends is absorbed unread.
 * fuzz_server_end() closes the server's end.
 */
void		 fuzz_server_script(const void *script, size_t len);
void		 fuzz_server_end(void);

#endif
