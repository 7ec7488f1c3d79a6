#ifndef WEFT_CSHIM_H
#define WEFT_CSHIM_H

#include <sys/types.h>

/* Calls that need _GNU_SOURCE, which Swift's Glibc module is built without. */

/// setns(fd, CLONE_NEWNET) for the calling thread. Returns 0 or -1 with errno set.
int cshim_setns_net(int fd);
/// unshare(CLONE_NEWNET) for the calling thread. Returns 0 or -1 with errno set.
int cshim_unshare_net(void);
/// The calling thread's kernel thread id.
pid_t cshim_gettid(void);
/// Bind-mounts `source` onto `target`. Returns 0 or -1 with errno set.
int cshim_bind_mount(const char *source, const char *target);
/// Makes `path` a shared mount point, bind-mounting it onto itself first if it is none, as `ip netns add`
/// does, so namespace mounts below it propagate to other mount namespaces. Returns 0 or -1 with errno.
int cshim_make_shared_mountpoint(const char *path);
/// Lazily unmounts `target` (MNT_DETACH), never following a symbolic link at `target` (UMOUNT_NOFOLLOW).
/// Returns 0 or -1 with errno set.
int cshim_detach_mount(const char *target);

#endif
