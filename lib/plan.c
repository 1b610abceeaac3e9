/*
 * plan: which message goes when.  See plan.h.
 *
 * Records live in one array, linked by index (uint32_t; NIL ends a
 * list): a hash chain by ID, a free list, and each account's FIFO of
 * ready messages.  The heap holds the indexes of waiting messages and
 * each record knows its place in it, so a message can leave the heap
 * from the middle (plan_flush, plan_remove).
 *
 * The rate is a ring of the times of the last rate_count messages
 * taken: one more may go when the ring is not full or its oldest entry
 * has left the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_env.h"
#include "plan.h"

#define NIL	UINT32_MAX

enum where {
	W_FREE,
	W_WAIT,
	W_READY,
	W_BUSY,
};

struct msg {
	char		 id[QUEUE_ID_LEN + 1];
	uint8_t		 where;		/* enum where */
	uint8_t		 paced;		/* reported by plan_paced */
	uint8_t		 again;		/* due again while busy */
	uint16_t	 acct;
	uint32_t	 tag;
	uint32_t	 hnext;		/* hash chain */
	uint32_t	 link;		/* ready FIFO, or free list */
	uint32_t	 heap;		/* place in the heap, when waiting */
	int64_t		 due;
};

struct acct {
	struct plan_acct_params p;
	uint32_t	 head, tail;	/* ready FIFO */
	size_t		 nready;
	enum plan_state state;
	time_t		 until;		/* held or failing until */
	unsigned	 streak;	/* holds or failures in a row */
	bool		 probe;		/* one session until one works */
	time_t		*ring;		/* rate: times of the last takes */
	size_t		 ring_len, ring_pos;
};

struct plan {
	struct msg	*m;
	uint32_t	 nm, cap, free;
	uint32_t	*hash;
	uint32_t	 hmask;
	uint32_t	*heap;
	uint32_t	 nheap;
	struct acct	*a;
	size_t		 na;
	unsigned	 retry_min, retry_max;
	size_t		 count;
	plan_untag_fn	 untag;
	void		*untag_arg;
};

static uint32_t
plan_hash(const char *id)
{
	uint32_t	 h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static uint32_t
plan_find(const struct plan *s, const char *id)
{
	uint32_t	 i;

	for (i = s->hash[plan_hash(id) & s->hmask]; i != NIL;
	    i = s->m[i].hnext)
		if (strcmp(s->m[i].id, id) == 0)
			return i;
	return NIL;
}

/* --- the heap of waiting messages, by due time --- */

static void
heap_set(struct plan *s, uint32_t pos, uint32_t i)
{
	s->heap[pos] = i;
	s->m[i].heap = pos;
}

static void
heap_up(struct plan *s, uint32_t pos)
{
	uint32_t	 i = s->heap[pos], parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (s->m[s->heap[parent]].due <= s->m[i].due)
			break;
		heap_set(s, pos, s->heap[parent]);
		pos = parent;
	}
	heap_set(s, pos, i);
}

static void
heap_down(struct plan *s, uint32_t pos)
{
	uint32_t	 i = s->heap[pos], c;

	for (;;) {
		c = 2 * pos + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap &&
		    s->m[s->heap[c + 1]].due < s->m[s->heap[c]].due)
			c++;
		if (s->m[i].due <= s->m[s->heap[c]].due)
			break;
		heap_set(s, pos, s->heap[c]);
		pos = c;
	}
	heap_set(s, pos, i);
}

static void
heap_push(struct plan *s, uint32_t i)
{
	s->m[i].where = W_WAIT;
	heap_set(s, s->nheap++, i);
	heap_up(s, s->nheap - 1);
}

static void
heap_delete(struct plan *s, uint32_t i)
{
	uint32_t	 pos = s->m[i].heap, last = s->heap[--s->nheap];

	if (last != i) {
		heap_set(s, pos, last);
		heap_up(s, pos);
		heap_down(s, s->m[last].heap);
	}
	s->m[i].heap = NIL;
}

/* --- the accounts' FIFOs of ready messages --- */

static void
ready_push(struct plan *s, uint32_t i)
{
	struct acct	*a = &s->a[s->m[i].acct];

	s->m[i].where = W_READY;
	s->m[i].link = NIL;
	if (a->tail == NIL)
		a->head = i;
	else
		s->m[a->tail].link = i;
	a->tail = i;
	a->nready++;
}

static uint32_t
ready_pop(struct plan *s, struct acct *a)
{
	uint32_t	 i = a->head;

	if (i == NIL)
		return NIL;
	a->head = s->m[i].link;
	if (a->head == NIL)
		a->tail = NIL;
	a->nready--;
	return i;
}

/* Takes i out of its account's FIFO (a walk: flush and remove only). */
static void
ready_unlink(struct plan *s, uint32_t i)
{
	struct acct	*a = &s->a[s->m[i].acct];
	uint32_t	 j, prev = NIL;

	for (j = a->head; j != NIL && j != i; j = s->m[j].link)
		prev = j;
	if (j == NIL)
		return;
	if (prev == NIL)
		a->head = s->m[i].link;
	else
		s->m[prev].link = s->m[i].link;
	if (a->tail == i)
		a->tail = prev;
	a->nready--;
}

/* --- records --- */

static int
plan_grow(struct plan *s)
{
	uint32_t	 ncap, i, *h, *hp;
	struct msg	*m;

	if (s->cap >= NIL / 4)
		return -1;
	ncap = s->cap * 2;
	if ((m = realloc(s->m, (size_t)ncap * sizeof *m)) == NULL)
		return -1;
	s->m = m;
	if ((hp = realloc(s->heap, (size_t)ncap * sizeof *hp)) == NULL)
		return -1;
	s->heap = hp;
	if ((h = malloc((size_t)ncap * sizeof *h)) == NULL)
		return -1;
	free(s->hash);
	s->hash = h;
	s->hmask = ncap - 1;
	for (i = 0; i < ncap; i++)
		h[i] = NIL;
	for (i = 0; i < s->nm; i++)
		if (s->m[i].where != W_FREE) {
			uint32_t b = plan_hash(s->m[i].id) & s->hmask;

			s->m[i].hnext = h[b];
			h[b] = i;
		}
	s->cap = ncap;
	return 0;
}

static uint32_t
plan_alloc(struct plan *s, const char *id)
{
	uint32_t	 i, b;

	if (s->free != NIL) {
		i = s->free;
		s->free = s->m[i].link;
	} else {
		if (s->nm == s->cap && plan_grow(s) == -1)
			return NIL;
		i = s->nm++;
	}
	memset(&s->m[i], 0, sizeof s->m[i]);
	memcpy(s->m[i].id, id, strnlen(id, QUEUE_ID_LEN));
	s->m[i].heap = s->m[i].link = NIL;
	b = plan_hash(s->m[i].id) & s->hmask;
	s->m[i].hnext = s->hash[b];
	s->hash[b] = i;
	s->count++;
	return i;
}

static void
plan_release(struct plan *s, uint32_t i)
{
	uint32_t	*pp = &s->hash[plan_hash(s->m[i].id) & s->hmask];

	while (*pp != i)
		pp = &s->m[*pp].hnext;
	*pp = s->m[i].hnext;
	s->m[i].where = W_FREE;
	s->m[i].link = s->free;
	s->free = i;
	s->count--;
}

static void
plan_untag(struct plan *s, uint32_t i)
{
	uint32_t	 tag = s->m[i].tag;

	s->m[i].tag = 0;
	if (tag != 0 && s->untag != NULL)
		s->untag(s->untag_arg, tag);
}

/* --- accounts --- */

static void
acct_init(struct acct *a, const struct plan_acct_params *p)
{
	memset(a, 0, sizeof *a);
	a->p = *p;
	a->head = a->tail = NIL;
	a->state = PLAN_FREE;
}

/* The rate ring for p, keeping the latest times of old (may be NULL). */
static int
acct_ring(struct acct *a, const struct acct *old)
{
	size_t	 n = a->p.rate_count, k, i, len;

	a->ring = NULL;
	a->ring_len = a->ring_pos = 0;
	if (n == 0)
		return 0;
	if ((a->ring = calloc(n, sizeof *a->ring)) == NULL)
		return -1;
	a->ring_len = n;
	if (old == NULL || old->ring_len == 0)
		return 0;
	/* Oldest first, the newest that fit. */
	len = old->ring_len;
	k = len < n ? len : n;
	for (i = 0; i < k; i++)
		a->ring[i] = old->ring[(old->ring_pos + len - k + i) % len];
	a->ring_pos = k % n;
	return 0;
}

/* When the next message may go under the rate (<= now: at once). */
static time_t
acct_slot(const struct acct *a)
{
	if (a->ring_len == 0)
		return 0;
	/* ring_pos is the oldest entry (0: never used). */
	return a->ring[a->ring_pos] == 0 ? 0 :
	    a->ring[a->ring_pos] + (time_t)a->p.rate_period;
}

static time_t
acct_backoff(const struct plan *s, unsigned streak)
{
	unsigned long long	 w = s->retry_min;

	while (streak-- > 1 && w < s->retry_max)
		w *= 2;
	return (time_t)(w > s->retry_max ? s->retry_max : w);
}

/* A hold or a failure that has run out is over: probe. */
static enum plan_state
acct_state(const struct acct *a, time_t now)
{
	return a->state != PLAN_FREE && a->until > now ? a->state :
	    PLAN_FREE;
}

struct plan *
plan_new(const struct plan_acct_params *p, size_t naccts,
    unsigned retry_min, unsigned retry_max)
{
	struct plan	*s;
	size_t		 i;

	if (naccts == 0 || naccts > UINT16_MAX ||
	    (s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->free = NIL;
	s->cap = 1024;
	s->hmask = s->cap - 1;
	s->retry_min = retry_min;
	s->retry_max = retry_max;
	s->m = malloc(s->cap * sizeof *s->m);
	s->heap = malloc(s->cap * sizeof *s->heap);
	s->hash = malloc(s->cap * sizeof *s->hash);
	s->a = calloc(naccts, sizeof *s->a);
	if (s->m == NULL || s->heap == NULL || s->hash == NULL ||
	    s->a == NULL) {
		plan_free(s);
		return NULL;
	}
	for (i = 0; i < s->cap; i++)
		s->hash[i] = NIL;
	s->na = naccts;
	for (i = 0; i < naccts; i++) {
		acct_init(&s->a[i], &p[i]);
		if (acct_ring(&s->a[i], NULL) == -1) {
			plan_free(s);
			return NULL;
		}
	}
	return s;
}

void
plan_free(struct plan *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; s->a != NULL && i < s->na; i++)
		free(s->a[i].ring);
	free(s->a);
	free(s->m);
	free(s->heap);
	free(s->hash);
	free(s);
}

void
plan_set_untag(struct plan *s, plan_untag_fn fn, void *arg)
{
	s->untag = fn;
	s->untag_arg = arg;
}

/* The new accounts' states, from the old ones that map to them (the
 * first of them, when several do). */
static int
plan_new_accts(struct plan *s, const struct plan_acct_params *p,
    size_t n, const size_t *remap, struct acct *na)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		const struct acct *old = NULL;

		for (j = 0; j < s->na && old == NULL; j++)
			if (remap[j] == i)
				old = &s->a[j];
		acct_init(&na[i], &p[i]);
		if (old != NULL) {
			na[i].state = old->state;
			na[i].until = old->until;
			na[i].streak = old->streak;
			na[i].probe = old->probe;
		}
		if (acct_ring(&na[i], old) == -1) {
			while (i-- > 0)
				free(na[i].ring);
			return -1;
		}
	}
	return 0;
}

int
plan_reconfigure(struct plan *s, const struct plan_acct_params *p,
    size_t n, const size_t *remap, unsigned retry_min, unsigned retry_max)
{
	struct acct	*na, *old;
	uint32_t	 i, j;
	size_t		 k;

	for (k = 0; k < s->na; k++)
		if (remap[k] >= n)
			return -1;
	if (n == 0 || n > UINT16_MAX || (na = calloc(n, sizeof *na)) == NULL)
		return -1;
	if (plan_new_accts(s, p, n, remap, na) == -1) {
		free(na);
		return -1;
	}
	old = s->a;
	/* The ready FIFOs are rebuilt in their old order, account by
	 * account: relative order within an account is kept. */
	s->a = na;
	for (k = 0; k < s->na; k++)
		for (i = old[k].head; i != NIL; i = j) {
			j = s->m[i].link;
			s->m[i].acct = (uint16_t)remap[k];
			ready_push(s, i);
		}
	for (i = 0; i < s->nm; i++)
		if (s->m[i].where == W_WAIT || s->m[i].where == W_BUSY)
			s->m[i].acct = (uint16_t)remap[s->m[i].acct];
	for (k = 0; k < s->na; k++)
		free(old[k].ring);
	free(old);
	s->na = n;
	s->retry_min = retry_min;
	s->retry_max = retry_max;
	return 0;
}

int
plan_add(struct plan *s, const char *id, size_t acct, time_t due,
    time_t now)
{
	uint32_t	 i;

	if (acct >= s->na || strlen(id) > QUEUE_ID_LEN)
		return -1;
	if ((i = plan_find(s, id)) != NIL) {
		/* A session found it locked (its submitter not done
		 * yet)?  Then it goes again at once, not after a wait. */
		if (s->m[i].where == W_BUSY && due <= now)
			s->m[i].again = 1;
		if (s->m[i].where == W_WAIT && due < s->m[i].due) {
			heap_delete(s, i);
			s->m[i].due = due;
			if (due <= now)
				ready_push(s, i);
			else
				heap_push(s, i);
		}
		return 0;
	}
	if ((i = plan_alloc(s, id)) == NIL)
		return -1;
	s->m[i].acct = (uint16_t)acct;
	s->m[i].due = due;
	if (due <= now)
		ready_push(s, i);
	else
		heap_push(s, i);
	return 0;
}

bool
plan_known(const struct plan *s, const char *id)
{
	return plan_find(s, id) != NIL;
}

bool
plan_busy(const struct plan *s, const char *id)
{
	uint32_t	 i = plan_find(s, id);

	return i != NIL && s->m[i].where == W_BUSY;
}

size_t
plan_count(const struct plan *s)
{
	return s->count;
}

void
plan_remove(struct plan *s, const char *id)
{
	uint32_t	 i;

	if ((i = plan_find(s, id)) == NIL || s->m[i].where == W_BUSY)
		return;
	if (s->m[i].where == W_WAIT)
		heap_delete(s, i);
	else
		ready_unlink(s, i);
	plan_untag(s, i);
	plan_release(s, i);
}

void
plan_tick(struct plan *s, time_t now)
{
	uint32_t	 i;

	while (s->nheap > 0 && s->m[s->heap[0]].due <= now) {
		i = s->heap[0];
		heap_delete(s, i);
		ready_push(s, i);
	}
}

unsigned
plan_session_limit(const struct plan *s, size_t acct)
{
	const struct acct	*a = &s->a[acct];

	return a->probe || a->state != PLAN_FREE ? 1 : a->p.max_sessions;
}

bool
plan_ready(const struct plan *s, size_t acct, time_t now,
    enum plan_state *blocked)
{
	const struct acct	*a = &s->a[acct];
	time_t			 slot;

	*blocked = PLAN_FREE;
	if (a->nready == 0)
		return false;
	if ((*blocked = acct_state(a, now)) != PLAN_FREE)
		return false;
	slot = acct_slot(a);
	return slot == 0 || slot <= now;
}

void
plan_take(struct plan *s, size_t acct, time_t now, char *id, size_t idlen)
{
	struct acct	*a = &s->a[acct];
	uint32_t	 i;

	if ((i = ready_pop(s, a)) == NIL) {
		if (idlen > 0)
			id[0] = '\0';
		return;
	}
	s->m[i].where = W_BUSY;
	s->m[i].paced = 0;
	if (a->ring_len > 0) {
		a->ring[a->ring_pos] = now;
		a->ring_pos = (a->ring_pos + 1) % a->ring_len;
	}
	snprintf(id, idlen, "%s", s->m[i].id);
}

/* Held or failing from now: the tagged messages waiting in the FIFO
 * are settled for their flush requests (they will not go now). */
static enum plan_change
acct_trouble(struct plan *s, struct acct *a, enum plan_state st,
    time_t now)
{
	uint32_t	 i;

	if (acct_state(a, now) == st)
		return PLAN_UNCHANGED;	/* another session's news */
	a->streak = a->state == st ? a->streak + 1 : 1;
	a->state = st;
	a->until = now + acct_backoff(s, a->streak);
	a->probe = true;
	for (i = a->head; i != NIL; i = s->m[i].link)
		plan_untag(s, i);
	return st == PLAN_HELD ? PLAN_NOW_HELD : PLAN_NOW_FAILING;
}

static enum plan_change
acct_account(struct plan *s, struct acct *a, enum plan_trouble t,
    time_t now)
{
	bool	 was;

	switch (t) {
	case PLAN_TROUBLE_AUTH:
		return acct_trouble(s, a, PLAN_HELD, now);
	case PLAN_TROUBLE_SESSION:
		return acct_trouble(s, a, PLAN_FAILING, now);
	case PLAN_TROUBLE_NONE:
		was = a->state != PLAN_FREE;
		a->state = PLAN_FREE;
		a->until = 0;
		a->streak = 0;
		a->probe = false;
		return was ? PLAN_RECOVERED : PLAN_UNCHANGED;
	case PLAN_TROUBLE_LOCAL:
		break;
	}
	return PLAN_UNCHANGED;
}

uint32_t
plan_done(struct plan *s, const char *id, enum plan_result result,
    time_t next, enum plan_trouble trouble, time_t now,
    enum plan_change *change)
{
	uint32_t	 i, tag;

	*change = PLAN_UNCHANGED;
	if ((i = plan_find(s, id)) == NIL || s->m[i].where != W_BUSY)
		return 0;
	*change = acct_account(s, &s->a[s->m[i].acct], trouble, now);
	tag = s->m[i].tag;
	s->m[i].tag = 0;
	switch (result) {
	case PLAN_DEFERRED:
	case PLAN_BUSY:
		s->m[i].due = result != PLAN_BUSY ? next :
		    s->m[i].again ? now : now + 5;
		s->m[i].again = 0;
		if (s->m[i].due <= now)
			ready_push(s, i);
		else
			heap_push(s, i);
		break;
	case PLAN_SENT:
	case PLAN_GONE:
		plan_release(s, i);
		break;
	}
	return tag;
}

int
plan_paced(struct plan *s, size_t acct, time_t now, char *id,
    size_t idlen, time_t *until)
{
	struct acct	*a = &s->a[acct];
	time_t		 slot = acct_slot(a);
	uint32_t	 i;

	if (slot == 0 || slot <= now || acct_state(a, now) != PLAN_FREE)
		return 0;
	for (i = a->head; i != NIL; i = s->m[i].link)
		if (!s->m[i].paced)
			break;
	if (i == NIL || idlen == 0)
		return 0;
	s->m[i].paced = 1;
	snprintf(id, idlen, "%s", s->m[i].id);
	*until = slot;
	return 1;
}

void
plan_unpaced(struct plan *s, const char *id)
{
	uint32_t	 i = plan_find(s, id);

	if (i != NIL)
		s->m[i].paced = 0;
}

static void
acct_unblock(struct acct *a)
{
	if (a->state != PLAN_FREE) {
		a->until = 0;
		a->probe = true;
	}
}

/* One message for plan_flush: due now and tagged.  Whether it was
 * not tagged for this flush already. */
static bool
flush_one(struct plan *s, uint32_t i, uint32_t tag, time_t now)
{
	acct_unblock(&s->a[s->m[i].acct]);
	if (s->m[i].where == W_WAIT) {
		heap_delete(s, i);
		s->m[i].due = now;
		ready_push(s, i);
	}
	if (s->m[i].tag == tag)
		return false;
	if (s->m[i].tag != 0)
		plan_untag(s, i);
	s->m[i].tag = tag;
	return true;
}

size_t
plan_flush(struct plan *s, const char *id, uint32_t tag, time_t now)
{
	uint32_t	 i;
	size_t		 n = 0, k;

	if (id != NULL)
		return (i = plan_find(s, id)) != NIL &&
		    flush_one(s, i, tag, now) ? 1 : 0;
	for (k = 0; k < s->na; k++)
		acct_unblock(&s->a[k]);
	for (i = 0; i < s->nm; i++)
		if (s->m[i].where != W_FREE)
			n += flush_one(s, i, tag, now);
	return n;
}

void
plan_restore(struct plan *s, size_t acct, enum plan_state st, time_t until,
    unsigned streak)
{
	struct acct	*a;

	if (acct >= s->na || st == PLAN_FREE)
		return;
	a = &s->a[acct];
	a->state = st;
	a->until = until;
	a->streak = streak;
	a->probe = true;
}

enum plan_state
plan_state(const struct plan *s, size_t acct, time_t now, time_t *until,
    unsigned *streak)
{
	const struct acct	*a = &s->a[acct];

	*until = a->until;
	*streak = a->streak;
	return acct_state(a, now);
}

time_t
plan_next_event(const struct plan *s, time_t now)
{
	const struct acct	*a;
	time_t			 t = 0, e;
	size_t			 k;

	if (s->nheap > 0)
		t = (time_t)s->m[s->heap[0]].due;
	for (k = 0; k < s->na; k++) {
		a = &s->a[k];
		if (a->nready == 0)
			continue;
		e = acct_state(a, now) != PLAN_FREE ? a->until :
		    acct_slot(a);
		if (e > now && (t == 0 || e < t))
			t = e;
	}
	return t;
}
