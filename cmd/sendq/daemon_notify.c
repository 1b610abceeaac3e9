/*
 * The manager's timer for notify_command (SPEC "Monitoring"): the
 * queue_age check, and the runs of events folded by the sessions when
 * their notify_interval ends.
 *
 * The records are in queue_dir/notify/ (lib/notify.h), written by any
 * process that delivers.  A session that folds an event writes its
 * record before it reports the job, so the report wakes us and a
 * change of notify/ tells us to read the records again: we learn when
 * the folded events are due without polling the directory's files.
 * The check of the oldest message reads the first control files of
 * the queue, every half queue_age_alert and at most every minute.
 */
#include <time.h>

#include "manager.h"
#include "notify.h"

#define ALERTS_AGE_MAX	60	/* seconds between queue_age checks */

static time_t
alerts_age_period(const struct conf *conf)
{
	unsigned	 p = conf->queue_age_alert / 2;

	return p < 1 ? 1 : p > ALERTS_AGE_MAX ? ALERTS_AGE_MAX : (time_t)p;
}

static bool
alerts_changed(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec || a->tv_nsec != b->tv_nsec;
}

void
alerts_tick(struct daemon *dm)
{
	struct alerts	*al = &dm->alerts;
	struct timespec	 ts = { 0, 0 };
	time_t		 now = wall();
	bool		 changed;

	if (now >= al->next_age) {
		al->next_age = now + alerts_age_period(dm->conf);
		notify_queue_age(dm->conf, dm->q, NULL, 0);
	}
	if (dm->conf->notify_command == NULL)
		return;
	/* Seen before the pass: a record written during it is seen at
	 * the next tick. */
	changed = notify_stamp(dm->q, &ts) == 0 &&
	    alerts_changed(&ts, &al->stamp);
	if (!changed && (al->next_due == 0 || now < al->next_due))
		return;
	al->stamp = ts;
	al->next_due = notify_flush(dm->conf);
}

time_t
alerts_next(const struct daemon *dm)
{
	const struct alerts	*al = &dm->alerts;
	time_t			 t = al->next_age, now = wall();

	if (dm->conf->notify_command != NULL && al->next_due != 0 &&
	    al->next_due < t)
		t = al->next_due;
	return t < now ? now : t;
}
