/*
 * durable_write: the floors of make bench's W1 (submit latency).
 *
 *   durable_write DIR   read standard input into a new file in DIR
 *                       (O_EXCL), fsync it, close it, fsync DIR: the
 *                       least any durable submission must do
 *   durable_write       exit at once: the cost of fork and exec alone
 *
 * Run once per message, like sendmail, so that both floors include
 * starting a dynamically linked program.  Exit status 1 on any error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec	 ts;
	char		 path[4096], buf[16384];
	ssize_t		 n;
	int		 fd, dfd;

	if (argc < 2)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (snprintf(path, sizeof path, "%s/%ld.%ld.%ld", argv[1],
	    (long)ts.tv_sec, ts.tv_nsec, (long)getpid()) >= (int)sizeof path)
		return 1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0660)) == -1)
		return 1;
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return 1;
	if (n == -1 || fsync(fd) == -1 || close(fd) == -1)
		return 1;
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		return 1;
	return 0;
}
