/// Calls by key hash: an open-addressing table (linear probing, at most half full) from a
/// call's `CallKeyHash` (never 0, so 0 marks an empty slot) to its state, packed in one word:
/// earliest start in milliseconds << 1 | answered. 16 bytes a slot; no per-entry allocation.
struct CallTable: Sendable {
    private(set) var keys: [UInt64]
    private(set) var values: [Int]
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    static func pack(millis: Int, answered: Bool) -> Int { millis << 1 | (answered ? 1 : 0) }
    @inline(__always)
    static func millis(_ v: Int) -> Int { v >> 1 }
    @inline(__always)
    static func answered(_ v: Int) -> Bool { v & 1 != 0 }

    /// The slot holding `key`, or the empty slot where it would go (negative: `-slot - 1`).
    @inline(__always)
    func find(_ key: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == 0 { return -i - 1 }
            i = (i + 1) & mask
        }
    }

    subscript(key: UInt64) -> Int? {
        let i = find(key)
        return i >= 0 ? values[i] : nil
    }

    /// The value at an occupied slot found by `find`.
    @inline(__always)
    func value(at slot: Int) -> Int { values[slot] }

    @inline(__always)
    mutating func setValue(_ v: Int, at slot: Int) { values[slot] = v }

    /// Inserts a key not in the table, at the empty slot `find` returned (or anywhere: -1).
    @inline(__always)
    mutating func insert(_ key: UInt64, _ value: Int, emptySlot: Int = -1) {
        if (count + 1) * 2 > keys.count {
            grow()
            let i = find(key)
            keys[-i - 1] = key
            values[-i - 1] = value
        } else {
            let i = emptySlot >= 0 ? emptySlot : -find(key) - 1
            keys[i] = key
            values[i] = value
        }
        count += 1
    }

    /// Sets `key`'s value, inserting it if new.
    mutating func set(_ key: UInt64, _ value: Int) {
        let i = find(key)
        if i >= 0 { values[i] = value } else { insert(key, value, emptySlot: -i - 1) }
    }

    /// Removes `key` if present (backward-shift deletion: no tombstones), returning its value.
    @discardableResult
    mutating func remove(_ key: UInt64) -> Int? {
        var i = find(key)
        guard i >= 0 else { return nil }
        let removed = values[i]
        var j = i
        while true {
            j = (j + 1) & mask
            let k = keys[j]
            if k == 0 { break }
            // An entry moves back into the hole unless its home slot lies cyclically in (i, j].
            let home = Int(truncatingIfNeeded: k) & mask
            let staysPut = i <= j ? (i < home && home <= j) : (i < home || home <= j)
            if staysPut { continue }
            keys[i] = k
            values[i] = values[j]
            i = j
        }
        keys[i] = 0
        values[i] = 0
        count -= 1
        return removed
    }

    /// Every entry, in slot order.
    func forEach(_ body: (UInt64, Int) -> Void) {
        for i in keys.indices where keys[i] != 0 { body(keys[i], values[i]) }
    }

    /// Entries sorted by key (the checkpoint's order: the same state, the same bytes).
    var sortedEntries: [(key: UInt64, value: Int)] {
        var out: [(key: UInt64, value: Int)] = []
        out.reserveCapacity(count)
        forEach { out.append(($0, $1)) }
        return out.sorted { $0.key < $1.key }
    }

    /// Keeps the entries `keep` says yes to, in a table sized for them.
    mutating func filter(_ keep: (UInt64, Int) -> Bool) {
        var kept = CallTable(capacity: count)
        forEach { k, v in if keep(k, v) { kept.insert(k, v) } }
        self = kept
    }

    private mutating func grow() {
        var bigger = CallTable(capacity: keys.count)
        forEach { bigger.insert($0, $1) }
        self = bigger
    }
}
