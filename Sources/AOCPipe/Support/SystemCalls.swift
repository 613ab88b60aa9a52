#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)`, named so that it does not clash with the `write` methods of the types that call
/// it, on Linux and Darwin alike.
@inline(__always)
package func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

/// The wall clock, in UTC milliseconds.
package func wallClockMillis() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec) / 1_000_000
}

/// The descriptors this process may open (the soft `ulimit -n`); nil: no limit.
package func openFilesLimit() -> Int? {
    var rl = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max else { return nil }
    return Int(clamping: rl.rlim_cur)
}

/// Raises the soft open-files limit to the hard one; false where it cannot be (a sandbox).
@discardableResult
package func raiseOpenFilesLimit() -> Bool {
    var rl = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &rl) == 0 else { return false }
    guard rl.rlim_cur < rl.rlim_max else { return true }
    rl.rlim_cur = rl.rlim_max
    return setrlimit(resource, &rl) == 0
}
