/*
 * Fuzzing: notify_command's records, notify_parse() (lib/notify.c), and
 * the folding of events into runs.
 *
 * A record is written by sendq into queue_dir/notify/, but a member of
 * group sendq can write one too, and root's queue runner reads it.
 *
 * Properties: an accepted record has a kind, an account and a queue ID
 * that is one or none, holding no NUL; formatting it and parsing the
 * result gives it again, field for field (parse -> format -> parse is
 * the identity).  Folding an event into it never loses one: a run
 * carries at least one event, and what is not run stays pending.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "notify.h"

static void
fold(struct notify_rec *r, time_t now, unsigned interval)
{
	struct notify_run	 run;
	unsigned		 before = r->pending;

	if (notify_fold(r, true, NULL, "x", now, interval, true, &run)) {
		FUZZ_CHECK(run.count >= 1, "a run of no event");
		FUZZ_CHECK(r->pending == 0 && r->last_run == now,
		    "a run left its events pending");
	} else
		FUZZ_CHECK(r->pending == before + (before < UINT_MAX) &&
		    r->pending > 0, "an event lost");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_rec	 r, r2;
	struct buf		 a;
	char			*text = fuzz_memdup(data, size);

	if (notify_parse(text, size, &r) == 0) {
		FUZZ_CHECK(notify_kind_name(r.kind) != NULL, "no kind");
		FUZZ_CHECK(r.account[0] != '\0', "no account");
		FUZZ_CHECK(r.queue_id[0] == '\0' || queue_id_valid(r.queue_id),
		    "a queue ID that is none");
		buf_init(&a, 0);
		FUZZ_CHECK(notify_format(&r, &a) == 0, "format failed");
		FUZZ_CHECK(notify_parse(a.data, a.len, &r2) == 0,
		    "own output refused");
		FUZZ_CHECK(memcmp(&r, &r2, sizeof r) == 0,
		    "parse -> format -> parse changed the record");
		buf_free(&a);
		fold(&r, (time_t)(size * 997), (unsigned)size);
	}
	free(text);
	return 0;
}
