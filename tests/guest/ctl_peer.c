/* Host end of the test guest's "vessel.ctl" port for tests/guest/run.sh: listens on (or
 * connects to) a unix socket, logs what the guest sends, answers its first line with
 * "vessel-ctl-pong\n", and logs the rest until the VMM closes the connection.
 * usage: guest-ctl-peer --listen|--connect PATH LOGFILE   (gives up after 120 s) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int peer_socket(const char *mode, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (strcmp(mode, "--connect") == 0) {
        for (int i = 0; i < 1200; i++) {
            if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return fd;
            usleep(100000);
        }
        return -1;
    }
    (void)unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
        return -1;
    printf("listening\n");
    fflush(stdout);
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    close(fd);
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s --listen|--connect PATH LOGFILE\n", argv[0]);
        return 2;
    }
    alarm(120);
    int log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int fd = peer_socket(argv[1], argv[2]);
    if (log < 0 || fd < 0) {
        perror("guest-ctl-peer");
        return 1;
    }
    char buf[4096];
    int answered = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (write(log, buf, (size_t)n) != n)
            return 1;
        if (!answered && memchr(buf, '\n', (size_t)n) != NULL) {
            static const char pong[] = "vessel-ctl-pong\n";
            if (write(fd, pong, sizeof(pong) - 1) != (ssize_t)sizeof(pong) - 1)
                return 1;
            answered = 1;
        }
    }
    return 0;
}
