import CShim
import Glibc

/// Programs the running kernel. Needs `CAP_NET_ADMIN` (and `CAP_SYS_ADMIN` for namespaces).
public struct KernelBackend: NetlinkBackend {
    public init() {}

    public func createNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        let path = reference.path
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard Self.makeDirectories(directory) else {
            throw .namespace(path: path, action: "create its directory", errno: errno)
        }
        // As `ip netns add` does: a shared mount point, so the namespace mount shows in other mount namespaces.
        if Self.isSharedMountCandidate(directory), cshim_make_shared_mountpoint(directory) != 0 {
            throw .namespace(path: path, action: "make \(directory) a shared mount point", errno: errno)
        }
        let placeholder = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard placeholder >= 0 else {
            let code = errno
            if code == EEXIST { throw .alreadyExists(object: "namespace \(reference)", kernelMessage: nil) }
            throw .namespace(path: path, action: "create its mount point", errno: code)
        }
        close(placeholder)
        do throws(NetlinkError) {
            try NamespaceThread.run(.createNew) { () throws(NetlinkError) -> Void in
                if cshim_bind_mount("/proc/thread-self/ns/net", path) != 0 {
                    throw .namespace(path: path, action: "bind-mount it", errno: errno)
                }
            }
        } catch {
            unlink(path)
            throw error
        }
        return try openNamespace(reference)
    }

    /// A symbolic link where a persistent namespace belongs is never followed (`O_NOFOLLOW`): it could point at
    /// another namespace, such as the host's. Only `.current` is opened through the kernel's own link.
    public func openNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        let fd = open(reference.path, O_RDONLY | O_CLOEXEC | (reference == .current ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(object: "namespace \(reference)", kernelMessage: nil) }
            if code == ELOOP { throw .namespace(path: reference.path, action: "open it (a symbolic link, not followed)", errno: code) }
            throw .namespace(path: reference.path, action: "open it", errno: code)
        }
        return NetworkNamespace(reference: reference, fd: fd, ownsDescriptor: true)
    }

    /// Follows nothing: a symbolic link at the path is removed as a link (its target is neither unmounted nor
    /// removed), the unmount is `UMOUNT_NOFOLLOW`, and anything but a file or a link is left alone.
    public func deleteNamespace(_ reference: NamespaceReference) throws(NetlinkError) {
        let path = reference.path
        var status = stat()
        guard lstat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(object: "namespace \(reference)", kernelMessage: nil) }
            throw .namespace(path: path, action: "inspect it", errno: code)
        }
        switch status.st_mode & S_IFMT {
        case S_IFLNK:
            if unlink(path) != 0 { throw .namespace(path: path, action: "remove the symbolic link there", errno: errno) }
            return
        case S_IFREG:
            break
        default:
            throw .namespace(path: path, action: "remove it (not a namespace mount point)", errno: EINVAL)
        }
        if cshim_detach_mount(path) != 0, errno != EINVAL {
            throw .namespace(path: path, action: "unmount it", errno: errno)
        }
        if unlink(path) != 0 { throw .namespace(path: path, action: "remove its mount point", errno: errno) }
    }

    /// Whether anything is at the path, a dangling symbolic link included (it is not followed).
    public func namespaceExists(_ reference: NamespaceReference) -> Bool {
        var status = stat()
        return lstat(reference.path, &status) == 0
    }

    /// A `directory` that is itself a symbolic link is not listed: it could lead the startup cleanup anywhere.
    public func namespaces(in directory: String) -> [NamespaceReference] {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        guard let stream = fdopendir(fd) else {
            close(fd)
            return []
        }
        defer { closedir(stream) }
        var found: [NamespaceReference] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            found.append(.path("\(directory)/\(name)"))
        }
        return found.sorted { $0.path < $1.path }
    }

    public func send(_ announcement: GratuitousARP, in namespace: NetworkNamespace) throws(NetlinkError) {
        try announcement.send(in: namespace)
    }

    public func transport(for namespace: NetworkNamespace) throws(NetlinkError) -> any NetlinkTransport {
        try KernelTransport(namespace: namespace.reference == .current ? nil : namespace)
    }

    private static func isSharedMountCandidate(_ directory: String) -> Bool {
        directory != "/proc" && !directory.hasPrefix("/proc/")
    }

    /// `mkdir -p`; false with errno set when a component cannot be made.
    private static func makeDirectories(_ path: String) -> Bool {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST { return false }
        }
        return true
    }
}
