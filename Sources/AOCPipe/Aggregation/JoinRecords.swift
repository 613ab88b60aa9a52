#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One report or freeze of the latency join: a packed case id and an event time (ms).
struct JoinRecord: Sendable {
    var key: UInt64
    var millis: Int

    @inline(__always)
    static func < (a: JoinRecord, b: JoinRecord) -> Bool {
        a.key < b.key || (a.key == b.key && a.millis < b.millis)
    }
}

/// An append-only array of `JoinRecord`s with value semantics (copy on write).
///
/// One block of pages of its own (`PageBlock`), grown and shrunk by remapping: growing a
/// 20 MB array never needs 60 MB the way a Swift `Array` does (new buffer of twice the size,
/// then copy), and pages given up while merging go back to the system at once. Sorting is in
/// place too.
struct JoinRecords: Sendable {
    private final class Storage: @unchecked Sendable {
        var base: UnsafeMutablePointer<JoinRecord>?
        var count = 0
        var capacity = 0

        deinit { if let base { PageBlock.free(base, bytes: capacity * MemoryLayout<JoinRecord>.stride) } }

        func reserve(_ minimum: Int) {
            guard minimum > capacity else { return }
            var c = capacity == 0 ? 1024 : capacity * 2
            while c < minimum { c *= 2 }
            resize(to: c)
        }

        /// Drops the records from `newCount` on and gives back the memory they used.
        func shrink(to newCount: Int) {
            count = min(count, newCount)
            if capacity - count >= 65_536 { resize(to: max(count, 1024)) }
        }

        private func resize(to newCapacity: Int) {
            let stride = MemoryLayout<JoinRecord>.stride
            let p = PageBlock.resize(base, from: capacity * stride, to: newCapacity * stride)
            base = p.assumingMemoryBound(to: JoinRecord.self)
            capacity = newCapacity
        }

        func copy() -> Storage {
            let s = Storage()
            s.reserve(count)
            if count > 0 { s.base!.update(from: base!, count: count) }
            s.count = count
            return s
        }
    }

    private var storage = Storage()

    var count: Int { storage.count }

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    @inline(__always)
    mutating func append(_ r: JoinRecord) {
        let s = unique()
        if s.count == s.capacity { s.reserve(s.count + 1) }
        s.base![s.count] = r
        s.count += 1
    }

    /// Moves `other`'s records here, each key passed through `transform` (nil: returned
    /// instead), so the move needs little more memory than the records (`takeBlocks`).
    mutating func moveAppend(from other: inout JoinRecords, transform: (UInt64) -> UInt64?) -> [JoinRecord] {
        var rejected: [JoinRecord] = []
        let s = unique()
        s.reserve(s.count + other.count)
        Self.takeBlocks(from: &other) { block, _ in
            for r in block {
                if let k = transform(r.key) {
                    s.base![s.count] = JoinRecord(key: k, millis: r.millis)
                    s.count += 1
                } else {
                    rejected.append(r)
                }
            }
        }
        return rejected
    }

    /// Moves `other`'s records here unchanged, a block copy at a time (`takeBlocks`).
    mutating func moveAppend(from other: inout JoinRecords) {
        let s = unique()
        let first = s.count, moved = other.count
        s.reserve(first + moved)
        Self.takeBlocks(from: &other) { block, offset in
            (s.base! + first + offset).initialize(from: block.baseAddress!, count: block.count)
        }
        s.count = first + moved
    }

    /// Hands `other`'s records to `body` (with each block's offset) and leaves it empty. As
    /// their only holder, it goes 65,536 records at a time from the end and gives each block's
    /// memory back after it; shared, the records are read in one block and left to the others.
    private static func takeBlocks(from other: inout JoinRecords, _ body: (UnsafeBufferPointer<JoinRecord>, Int) -> Void) {
        let shrinking = isKnownUniquelyReferenced(&other.storage)
        let source = other.storage
        var end = source.count
        while end > 0 {
            let begin = shrinking ? max(0, end - 65_536) : 0
            body(UnsafeBufferPointer(start: source.base! + begin, count: end - begin), begin)
            end = begin
            if shrinking { source.shrink(to: end) }
        }
        other = JoinRecords()
    }

    /// Calls `body` with the records a block of up to 65,536 at a time, last block first,
    /// giving each block's memory back after it.
    mutating func drainBlocksFromEnd(_ body: (UnsafeBufferPointer<JoinRecord>) -> Void) {
        let s = unique()
        while s.count > 0 {
            let begin = max(0, s.count - 65_536)
            body(UnsafeBufferPointer(start: s.base! + begin, count: s.count - begin))
            s.shrink(to: begin)
        }
    }

    func forEach(_ body: (JoinRecord) -> Void) {
        guard let base = storage.base else { return }
        for i in 0..<storage.count { body(base[i]) }
    }

    /// Keeps the records for which `keep` holds, in order.
    mutating func removeAll(where drop: (JoinRecord) -> Bool) {
        let s = unique()
        guard let base = s.base else { return }
        var kept = 0
        for i in 0..<s.count where !drop(base[i]) {
            base[kept] = base[i]
            kept += 1
        }
        s.count = kept
    }

    /// Sorts by key, then time, in place; calls `body` with the sorted records.
    mutating func sorted<R>(_ body: (UnsafeBufferPointer<JoinRecord>) -> R) -> R {
        withMutableRecords { records in
            if let base = records.baseAddress { Self.radixSort(base, records.count) }
            return body(UnsafeBufferPointer(records))
        }
    }

    /// The records, to rewrite in place.
    mutating func withMutableRecords<R>(_ body: (UnsafeMutableBufferPointer<JoinRecord>) -> R) -> R {
        let s = unique()
        return body(UnsafeMutableBufferPointer(start: s.base, count: s.count))
    }

    /// The records, to read.
    func withRecords<R>(_ body: (UnsafeBufferPointer<JoinRecord>) -> R) -> R {
        body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// Sorts `a[0..<n]` by key, then time: a most-significant-digit radix sort in place
    /// (American flag sort: count each byte value, then move every record straight into its
    /// bucket by following cycles), over only the key bits that vary, 8 at a time. Case ids
    /// are numbered, so the keys of a log span a narrow range: ~28 bits for two months of
    /// cases, two passes before the buckets are small enough for insertion sort. No memory but
    /// the stack; about four times the speed of the quicksort it replaced on 800k records.
    static func radixSort(_ a: UnsafeMutablePointer<JoinRecord>, _ n: Int) {
        guard n > 1 else { return }
        var low = UInt64.max, high: UInt64 = 0
        for i in 0..<n {
            let k = a[i].key
            if k < low { low = k }
            if k > high { high = k }
        }
        let bits = UInt64.bitWidth - (high - low).leadingZeroBitCount
        if bits == 0 {
            // One id only: by time.
            introsort(a, 0, n - 1, depth: 2 * (Int.bitWidth - n.leadingZeroBitCount))
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * 256) { scratch in
            flagSort(a, n, low: low, shift: max(bits - 8, 0), scratch: scratch.baseAddress!)
        }
    }

    /// One radix pass over `a[0..<n]` on the byte at `shift` of `key - low` (the bits above it
    /// already equal), then each bucket on the next byte down. `scratch` holds 3 x 256 counters.
    private static func flagSort(_ a: UnsafeMutablePointer<JoinRecord>, _ n: Int, low: UInt64, shift: Int,
                                 scratch: UnsafeMutablePointer<Int>) {
        if n <= 48 {
            insertionSort(a, 0, n - 1)
            return
        }
        @inline(__always) func digit(_ r: JoinRecord) -> Int { Int(truncatingIfNeeded: ((r.key &- low) >> UInt64(shift)) & 0xFF) }
        let counts = scratch, next = scratch + 256, ends = scratch + 512
        counts.initialize(repeating: 0, count: 256)
        for i in 0..<n { counts[digit(a[i])] += 1 }
        var sum = 0
        for b in 0..<256 { next[b] = sum; sum += counts[b]; ends[b] = sum }
        for b in 0..<256 {
            while next[b] < ends[b] {
                var x = a[next[b]]
                var d = digit(x)
                // Follow the cycle: put x where its bucket fills next, carry on with what was there.
                while d != b {
                    let slot = next[d]
                    next[d] = slot + 1
                    let y = a[slot]
                    a[slot] = x
                    x = y
                    d = digit(x)
                }
                a[next[b]] = x
                next[b] += 1
            }
        }
        // The recursion reuses `scratch`: keep the bucket sizes apart.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { sizes in
            _ = sizes.initialize(fromContentsOf: UnsafeBufferPointer(start: counts, count: 256))
            var start = 0
            for m in sizes {
                if m < 2 {
                    // Nothing to order.
                } else if shift > 0 {
                    flagSort(a + start, m, low: low, shift: max(shift - 8, 0), scratch: scratch)
                } else {
                    // Equal keys (a case reported more than once): by time.
                    introsort(a + start, 0, m - 1, depth: 2 * (Int.bitWidth - m.leadingZeroBitCount))
                }
                start += m
            }
        }
    }

    /// Quicksort (median of three) over `a[lo...hi]`, heapsort past `depth`, insertion sort for
    /// short runs: in place, no allocation. Logs are nearly sorted by case id, which the median
    /// of three handles well.
    private static func introsort(_ a: UnsafeMutablePointer<JoinRecord>, _ lo: Int, _ hi: Int, depth: Int) {
        var lo = lo, hi = hi, depth = depth
        while hi - lo > 16 {
            if depth == 0 { heapsort(a + lo, hi - lo + 1); return }
            depth -= 1
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { swap(a, mid, lo) }
            if a[hi] < a[lo] { swap(a, hi, lo) }
            if a[hi] < a[mid] { swap(a, hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while pivot < a[j] { j -= 1 }
                if i <= j { swap(a, i, j); i += 1; j -= 1 }
            }
            // Recurse into the smaller side, loop on the larger: stack depth stays logarithmic.
            if j - lo < hi - i {
                introsort(a, lo, j, depth: depth)
                lo = i
            } else {
                introsort(a, i, hi, depth: depth)
                hi = j
            }
        }
        if hi > lo { insertionSort(a, lo, hi) }
    }

    @inline(__always)
    private static func swap(_ a: UnsafeMutablePointer<JoinRecord>, _ i: Int, _ j: Int) {
        let t = a[i]; a[i] = a[j]; a[j] = t
    }

    private static func insertionSort(_ a: UnsafeMutablePointer<JoinRecord>, _ lo: Int, _ hi: Int) {
        guard lo < hi else { return }
        for i in (lo + 1)...hi {
            let x = a[i]
            var j = i - 1
            while j >= lo && x < a[j] { a[j + 1] = a[j]; j -= 1 }
            a[j + 1] = x
        }
    }

    private static func heapsort(_ a: UnsafeMutablePointer<JoinRecord>, _ n: Int) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && a[child] < a[child + 1] { child += 1 }
                guard a[root] < a[child] else { return }
                swap(a, root, child)
                root = child
            }
        }
        var start = n / 2 - 1
        while start >= 0 { siftDown(start, n); start -= 1 }
        var end = n - 1
        while end > 0 { swap(a, 0, end); siftDown(0, end); end -= 1 }
    }
}

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
