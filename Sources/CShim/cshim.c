#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

int cshim_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

int cshim_unshare_net(void) { return unshare(CLONE_NEWNET); }

pid_t cshim_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int cshim_bind_mount(const char *source, const char *target) {
    return mount(source, target, "none", MS_BIND, NULL);
}

int cshim_make_shared_mountpoint(const char *path) {
    if (mount("", path, "none", MS_SHARED | MS_REC, NULL) == 0) return 0;
    if (errno != EINVAL) return -1;
    /* Not a mount point yet: bind it onto itself, then retry. */
    if (mount(path, path, "none", MS_BIND | MS_REC, NULL) != 0) return -1;
    return mount("", path, "none", MS_SHARED | MS_REC, NULL);
}

int cshim_detach_mount(const char *target) { return umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW); }
