/* The VM's event loop: one epoll set, run on the thread that called vm_run, for
 * device I/O (host sockets, files, ioeventfds) outside the vCPU threads. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/vm_internal.h"

/* Entries are freed only in event_loop_destroy, so a callback deleting another
 * fd's entry (or its own) never leaves the loop holding a dangling pointer. */
struct vm_event_entry {
    int fd;
    bool dead;
    vm_event_fn fn;
    void *opaque;
    struct vm_event_entry *next;
};

int event_loop_init(struct vm *vm, struct vessel_error **err)
{
    vm->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (vm->epoll_fd < 0)
        return vessel_error_set(err, errno, "epoll_create1");
    vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->stop_fd < 0)
        return vessel_error_set(err, errno, "eventfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, vm->stop_fd, &ev) < 0)
        return vessel_error_set(err, errno, "adding the stop eventfd to epoll");
    return 0;
}

int vm_event_add(struct vm *vm, int fd, uint32_t events, vm_event_fn fn, void *opaque,
                 struct vessel_error **err)
{
    if (fd < 0 || fn == NULL)
        return vessel_error_set(err, EINVAL, "adding fd %d to the event loop", fd);
    struct vm_event_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return vessel_error_set(err, ENOMEM, "adding fd %d to the event loop", fd);
    e->fd = fd;
    e->fn = fn;
    e->opaque = opaque;
    struct epoll_event ev = {.events = events, .data.ptr = e};
    pthread_mutex_lock(&vm->events_lock);
    if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int saved = errno;
        pthread_mutex_unlock(&vm->events_lock);
        free(e);
        return vessel_error_set(err, saved, "adding fd %d to the event loop", fd);
    }
    e->next = vm->events;
    vm->events = e;
    pthread_mutex_unlock(&vm->events_lock);
    return 0;
}

int vm_event_del(struct vm *vm, int fd)
{
    int r = -ENOENT;
    pthread_mutex_lock(&vm->events_lock);
    for (struct vm_event_entry *e = vm->events; e != NULL; e = e->next) {
        if (e->fd == fd && !e->dead) {
            e->dead = true;
            r = epoll_ctl(vm->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
            break;
        }
    }
    pthread_mutex_unlock(&vm->events_lock);
    return r;
}

int event_loop_run(struct vm *vm, struct vessel_error **err)
{
    struct epoll_event evs[32];
    while (!atomic_load(&vm->stopping)) {
        int n = epoll_wait(vm->epoll_fd, evs, 32, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vessel_error_set(err, errno, "epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct vm_event_entry *e = evs[i].data.ptr;
            if (e == NULL)
                return 0;  /* the stop eventfd */
            pthread_mutex_lock(&vm->events_lock);
            bool dead = e->dead;
            pthread_mutex_unlock(&vm->events_lock);
            if (!dead)
                e->fn(e->opaque, evs[i].events);
        }
    }
    return 0;
}

void event_loop_destroy(struct vm *vm)
{
    struct vm_event_entry *e = vm->events;
    while (e != NULL) {
        struct vm_event_entry *next = e->next;
        free(e);
        e = next;
    }
    vm->events = NULL;
    if (vm->epoll_fd >= 0)
        (void)close(vm->epoll_fd);
    if (vm->stop_fd >= 0)
        (void)close(vm->stop_fd);
    vm->epoll_fd = vm->stop_fd = -1;
}
