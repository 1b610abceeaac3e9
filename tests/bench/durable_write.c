/*
 * durable_write: the floors of make bench's W1 (submit latency).
 *
 *   durable_write DIR      read standard input into a new file in DIR
 *                          (O_EXCL), fsync it, close it, fsync DIR: the
 *                          least any durable submission must do
 *   durable_write -2 DIR   the same, then a second new file of 200
 *                          bytes (an envelope) fsynced too, before DIR:
 *                          the least a spool of one data file and one
 *                          control file a message must do (three fsyncs,
 *                          as POSIX asks for two new files and their
 *                          directory)
 *   durable_write          exit at once: the cost of fork and exec alone
 *
 * Run once per message, like sendmail, so that every floor includes
 * starting a dynamically linked program.  Exit status 1 on any error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A new file in dir named after now, pid and ext; its descriptor. */
static int
create(const char *dir, const char *ext)
{
	struct timespec	 ts;
	char		 path[4096];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (snprintf(path, sizeof path, "%s/%ld.%ld.%ld%s", dir,
	    (long)ts.tv_sec, ts.tv_nsec, (long)getpid(), ext) >=
	    (int)sizeof path)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0660);
}

int
main(int argc, char **argv)
{
	char		 buf[16384];
	const char	*dir;
	ssize_t		 n;
	int		 fd, cfd = -1, dfd, two;

	if (argc < 2)
		return 0;
	two = strcmp(argv[1], "-2") == 0;
	if ((dir = argv[1 + two]) == NULL || (fd = create(dir, ".msg")) == -1)
		return 1;
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return 1;
	if (n == -1)
		return 1;
	if (two) {
		memset(buf, 'e', 200);
		if ((cfd = create(dir, ".ctl")) == -1 ||
		    write(cfd, buf, 200) != 200)
			return 1;
	}
	if (fsync(fd) == -1 || close(fd) == -1 ||
	    (two && (fsync(cfd) == -1 || close(cfd) == -1)))
		return 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		return 1;
	return 0;
}
