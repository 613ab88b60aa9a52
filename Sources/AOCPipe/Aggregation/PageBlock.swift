#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory in whole pages straight from the kernel (`mmap`), resized with `mremap`: pages are
/// moved, never copied, and what is given up is returned at once. Elsewhere than Linux,
/// `realloc`.
enum PageBlock {
    static func resize(_ old: UnsafeMutableRawPointer?, from oldBytes: Int, to newBytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        let oldSize = rounded(oldBytes), newSize = rounded(newBytes)
        let p: UnsafeMutableRawPointer?
        if let old {
            if oldSize == newSize { return old }
            p = mremap(old, oldSize, newSize, 1 /* MREMAP_MAYMOVE */)
        } else {
            p = mmap(nil, newSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        }
        guard let p, p != MAP_FAILED else { fatalError("out of memory: cannot map \(newSize) bytes") }
        return p
        #else
        guard let p = realloc(old, newBytes) else { fatalError("out of memory: cannot allocate \(newBytes) bytes") }
        return p
        #endif
    }

    static func free(_ p: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        munmap(p, rounded(bytes))
        #else
        Darwin.free(p)
        #endif
    }

    #if os(Linux)
    static func rounded(_ bytes: Int) -> Int { (max(bytes, 1) + 4095) & ~4095 }
    #endif
}

#if os(Linux)
/// glibc's `mremap` is variadic in C (a fifth argument only with `MREMAP_FIXED`, never passed
/// here), so Swift does not import it; this is its four-argument form.
@_silgen_name("mremap")
private func mremap(_ old: UnsafeMutableRawPointer, _ oldSize: Int, _ newSize: Int, _ flags: Int32) -> UnsafeMutableRawPointer?
#endif
