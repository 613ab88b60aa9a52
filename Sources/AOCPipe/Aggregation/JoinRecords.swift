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

    /// Sorts the records by key, then time, in place (`radixSort`).
    mutating func sortInPlace() {
        withMutableRecords { records in
            if let base = records.baseAddress { Self.radixSort(base, records.count) }
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
}
