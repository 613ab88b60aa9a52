import Foundation

/// A value behind a lock: `Synchronization.Mutex`'s `withLock`, on a pthread mutex
/// (`NSLock`). The thread sanitizer sees a pthread mutex's ordering but not `Mutex`'s (it
/// reported every access under a `Mutex` as a race), so with this the sanitizer runs clean
/// and a real race stands out.
package final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
