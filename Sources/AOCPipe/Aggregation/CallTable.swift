/// Calls by key hash: an open-addressing table (linear probing, at most half full) from a
/// call's `CallKeyHash` (never 0, so 0 marks an empty slot) to its state, packed in one word:
/// earliest start in milliseconds << 1 | answered. 16 bytes a slot; no per-entry allocation.
struct CallTable: Sendable {
    /// A key and its value side by side: a lookup reads one cache line.
    struct Slot: Sendable {
        var key: UInt64
        var value: Int
    }

    private(set) var slots: [Slot]
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(key: 0, value: 0), count: size)
        mask = size - 1
    }

    var isEmpty: Bool { count == 0 }

    /// A copy of `other` in a table sized for its entries.
    init(copying other: CallTable) {
        self.init(capacity: other.count)
        other.forEach { insert($0, $1) }
    }

    @inline(__always)
    static func pack(millis: Int, answered: Bool) -> Int { millis << 1 | (answered ? 1 : 0) }
    @inline(__always)
    static func millis(_ v: Int) -> Int { v >> 1 }
    @inline(__always)
    static func answered(_ v: Int) -> Bool { v & 1 != 0 }

    /// The slot holding `key`, or the empty slot where it would go (negative: `-slot - 1`).
    @inline(__always)
    func find(_ key: UInt64) -> Int {
        slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: key) & mask
            while true {
                let k = s[i].key
                if k == key { return i }
                if k == 0 { return -i - 1 }
                i = (i + 1) & mask
            }
        }
    }

    /// Reads the slot where `key` would start its search, so that its cache line is loaded:
    /// several such reads in a row wait for memory together, not one after the other.
    @inline(__always)
    func touch(_ key: UInt64) -> UInt64 {
        slots.withUnsafeBufferPointer { $0[Int(truncatingIfNeeded: key) & mask].key }
    }

    subscript(key: UInt64) -> Int? {
        let i = find(key)
        return i >= 0 ? slots[i].value : nil
    }

    /// The value at an occupied slot found by `find`.
    @inline(__always)
    func value(at slot: Int) -> Int { slots[slot].value }

    @inline(__always)
    mutating func setValue(_ v: Int, at slot: Int) { slots[slot].value = v }

    /// Inserts a key not in the table, at the empty slot `find` returned (or anywhere: -1).
    @inline(__always)
    mutating func insert(_ key: UInt64, _ value: Int, emptySlot: Int = -1) {
        if (count + 1) * 2 > slots.count {
            grow()
            let i = -find(key) - 1
            slots[i] = Slot(key: key, value: value)
        } else {
            let i = emptySlot >= 0 ? emptySlot : -find(key) - 1
            slots[i] = Slot(key: key, value: value)
        }
        count += 1
    }

    /// Sets `key`'s value, inserting it if new.
    mutating func set(_ key: UInt64, _ value: Int) {
        let i = find(key)
        if i >= 0 { slots[i].value = value } else { insert(key, value, emptySlot: -i - 1) }
    }

    /// Removes `key` if present (backward-shift deletion: no tombstones), returning its value.
    @discardableResult
    mutating func remove(_ key: UInt64) -> Int? {
        let found = find(key)
        guard found >= 0 else { return nil }
        let mask = self.mask
        let removed = slots.withUnsafeMutableBufferPointer { s -> Int in
            let removed = s[found].value
            Self.empty(found, in: s, mask: mask)
            return removed
        }
        count -= 1
        return removed
    }

    /// Removes, in place, every call whose earliest start is before `cutoff` (ms), and returns
    /// those that started at or before `keepUntil` (for a segment's head). One pass over the
    /// slots in order, no allocation but for what is returned: after a removal the slot is
    /// looked at again, as backward shifting may have filled it.
    mutating func removeCalls(startedBefore cutoff: Int, returning keepUntil: Int) -> [Slot] {
        guard count > 0 else { return [] }
        let mask = self.mask
        var gone = 0
        var kept: [Slot] = []
        slots.withUnsafeMutableBufferPointer { s in
            var i = 0
            let n = s.count
            while i < n {
                let slot = s[i]
                if slot.key == 0 || slot.value >> 1 >= cutoff { i += 1; continue }
                if slot.value >> 1 <= keepUntil { kept.append(slot) }
                gone += 1
                Self.empty(i, in: s, mask: mask)
            }
        }
        count -= gone
        return kept
    }

    /// Empties slot `i` by backward-shift deletion (no tombstones): each entry after it in its
    /// probe run moves back into the hole unless its home slot lies cyclically in (hole, j].
    @inline(__always)
    private static func empty(_ i: Int, in s: UnsafeMutableBufferPointer<Slot>, mask: Int) {
        var hole = i, j = i
        while true {
            j = (j + 1) & mask
            let k = s[j].key
            if k == 0 { break }
            let home = Int(truncatingIfNeeded: k) & mask
            let staysPut = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if staysPut { continue }
            s[hole] = s[j]
            hole = j
        }
        s[hole] = Slot(key: 0, value: 0)
    }

    /// Every entry, in slot order.
    func forEach(_ body: (UInt64, Int) -> Void) {
        for slot in slots where slot.key != 0 { body(slot.key, slot.value) }
    }

    /// Entries sorted by key (the checkpoint's order: the same state, the same bytes).
    var sortedEntries: [(key: UInt64, value: Int)] {
        var out: [(key: UInt64, value: Int)] = []
        out.reserveCapacity(count)
        forEach { out.append(($0, $1)) }
        return out.sorted { $0.key < $1.key }
    }

    private mutating func grow() {
        var bigger = CallTable(capacity: slots.count)
        forEach { bigger.insert($0, $1) }
        self = bigger
    }
}
