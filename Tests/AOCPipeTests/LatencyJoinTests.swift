import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

@Suite struct LatencyJoinTests {
    @Test(arguments: ["AOC-20231101-000001", "AOC-20231101-000000", "0", "007", "no digits at all", "",
                      "12345678901234567", "x1y2z3", "ก-00042", "A\u{0}9", "99999999999999999"])
    func packedIdsUnpackToThemselves(_ id: String) {
        var shapes = CaseShapes()
        let packed = shapes.pack(CaseKey(id)) ?? 0
        #expect(packed != 0)
        #expect(shapes.unpack(packed) == CaseKey(id))
    }

    @Test func idsThatCannotPackSayNo() {
        var shapes = CaseShapes()
        #expect(shapes.pack(CaseKey("123456789012345678")) == nil)            // 18 digits
        #expect(shapes.pack(CaseKey(String(repeating: "A", count: 33))) == nil) // hashed by CaseKey
        func shape(_ i: Int) -> String {
            String(UnicodeScalar(UInt8(65 + i / 26))) + String(UnicodeScalar(UInt8(97 + i % 26))) + "-1"
        }
        for i in 0..<CaseShapes.maxShapes { #expect(shapes.pack(CaseKey(shape(i))) != nil) }
        #expect(shapes.pack(CaseKey(shape(CaseShapes.maxShapes))) == nil)
        #expect(shapes.pack(CaseKey("Aa-2")) != nil)  // a known shape still packs
    }

    @Test func differentIdsPackDifferently() {
        var shapes = CaseShapes()
        // Same digits, different places or counts; same shape, different numbers.
        let ids = ["A-1-23", "A-12-3", "A-123", "A-0123", "B-123", "A-124", "A-1-24", "1A", "01A", "A1"]
        let packed = ids.map { shapes.pack(CaseKey($0)) }
        #expect(Set(packed.compactMap { $0 }).count == ids.count)
    }

    /// Reference: a dictionary of earliest reports, joined per freeze.
    static func reference(_ reports: [(String, Int)], _ freezes: [(String, Int)]) -> [Int: [Int?]] {
        var earliest: [String: Int] = [:]
        for (id, t) in reports { earliest[id] = min(earliest[id] ?? t, t) }
        var out: [Int: [Int?]] = [:]
        for (id, t) in freezes {
            // Unmatched freezes are counted, not timed.
            if let l = earliest[id].flatMap({ $0 <= t ? t - $0 : nil }) { out[t, default: []].append(l) } else { out[Int.min, default: []].append(nil) }
        }
        return out.mapValues { $0.sorted { ($0 ?? -1) < ($1 ?? -1) } }
    }

    /// What the join gives, as the reference does: latencies by freeze time, and unmatched.
    /// (Every freeze counts as recent, so the join also gives each one's time.)
    static func joined(_ join: inout LatencyJoin) -> [Int: [Int?]] {
        let j = join.joined(zone: bangkok, recentFrom: .min)
        var out: [Int: [Int?]] = [:]
        for (t, l) in j.recent { out[t, default: []].append(l) }
        // The hour windows hold the same latencies, each in the hour of its freeze.
        var byHour: [Int: [Int]] = [:]
        for (t, l) in j.recent { byHour[CivilTime.floorDiv(t, 3_600_000) * 3600, default: []].append(l) }
        #expect(j.hours.mapValues { $0.sorted() } == byHour.mapValues { $0.sorted() })
        if j.unmatched > 0 { out[Int.min] = Array(repeating: nil, count: j.unmatched) }
        return out.mapValues { $0.sorted { ($0 ?? -1) < ($1 ?? -1) } }
    }

    /// 300,000 events: the freezes are looked up in several blocks, each split between lanes.
    @Test(arguments: [(1, 20_000), (2, 20_000), (7, 20_000), (3, 300_000)])
    func joinAgreesWithADictionaryAcrossMerges(parts: Int, events: Int) {
        var rng = SeededRandom(seed: UInt64(parts))
        // Packable ids of a few shapes, more than 127 shapes (some go wide), 18-digit and
        // long ids (always wide); duplicated reports, freezes before reports, freezes without.
        func id() -> String {
            switch rng.below(10) {
            case 0: return "S\(rng.below(300))-" + "\(rng.below(50))"  // many shapes
            case 1: return "123456789012345678-\(rng.below(40))"
            case 2: return String(repeating: "L", count: 40) + "\(rng.below(40))"
            default: return "AOC-2023110\(rng.below(9))-\(String(rng.below(1000) + 1000).dropFirst())"
            }
        }
        var reports: [(String, Int)] = [], freezes: [(String, Int)] = []
        var joins = Array(repeating: LatencyJoin(), count: parts)
        for _ in 0..<events {
            let part = rng.below(parts), key = id(), t = rng.below(10_000_000)
            if rng.below(2) == 0 {
                reports.append((key, t)); joins[part].report(CaseKey(key), t)
            } else {
                freezes.append((key, t)); joins[part].freeze(CaseKey(key), t)
            }
        }
        var all = LatencyJoin()  // the first merge adopts, the others translate
        for j in joins { all.merge(j) }
        #expect(all.reportCount <= reports.count)
        #expect(all.freezeCount == freezes.count)
        let copy = all
        #expect(Self.joined(&all) == Self.reference(reports, freezes))
        // Sorting in place left the copy alone, and joining again gives the same.
        var again = copy
        #expect(Self.joined(&again) == Self.reference(reports, freezes))

        // Expiry forgets the cases first reported before the cutoff, and earlier freezes.
        all.expire(reportsBefore: 4_000_000, freezesBefore: 6_000_000)
        var earliest: [String: Int] = [:]
        for (id, t) in reports { earliest[id] = min(earliest[id] ?? t, t) }
        #expect(Self.joined(&all) == Self.reference(reports.filter { earliest[$0.0]! >= 4_000_000 }, freezes.filter { $0.1 >= 6_000_000 }))

        // What a checkpoint keeps gives the same join back.
        var restored = LatencyJoin()
        for (k, t) in copy.reportEntries() { restored.report(k, t) }
        for (k, t) in copy.freezeEntries() { restored.freeze(k, t) }
        #expect(Self.joined(&restored) == Self.reference(reports, freezes))
    }

    @Test func joinsOfOneShapeMergeByBlockCopy() {
        // Two parsing threads of one file see the same shape first: their records move as
        // they are (no key translation), including across several blocks of 65,536.
        var rng = SeededRandom(seed: 11)
        var reports: [(String, Int)] = [], freezes: [(String, Int)] = []
        var a = LatencyJoin(), b = LatencyJoin()
        for i in 0..<200_000 {
            let id = "AOC-20231101-" + String(100_000 + rng.below(90_000)), t = rng.below(10_000_000)
            if rng.below(2) == 0 {
                reports.append((id, t))
                if i % 2 == 0 { a.report(CaseKey(id), t) } else { b.report(CaseKey(id), t) }
            } else {
                freezes.append((id, t))
                if i % 2 == 0 { a.freeze(CaseKey(id), t) } else { b.freeze(CaseKey(id), t) }
            }
        }
        // With a second holder, b's blocks are copied and b keeps its records.
        var shared = a
        let copyOfB = b
        shared.merge(b)
        #expect(shared.reportCount == reports.count && shared.freezeCount == freezes.count)
        #expect(copyOfB.reportCount + copyOfB.freezeCount > 0)
        #expect(Self.joined(&shared) == Self.reference(reports, freezes))
        // As its only holder, the merge takes b's blocks one by one, giving each back.
        a.merge(consume b)
        #expect(a.reportCount == reports.count && a.freezeCount == freezes.count)
        #expect(Self.joined(&a) == Self.reference(reports, freezes))
    }

    @Test(arguments: [0, 1, 2, 17, 49, 100, 5_000, 150_000])
    func sortingOrdersAnyInput(count: Int) {
        var rng = SeededRandom(seed: 9)
        for pattern in 0..<7 {
            var records = JoinRecords()
            var plain: [JoinRecord] = []
            for i in 0..<count {
                let key: UInt64
                switch pattern {
                case 0: key = UInt64(i)                        // sorted
                case 1: key = UInt64(count - i)                // reversed
                case 2: key = UInt64(rng.below(3))             // many equal keys
                case 3: key = UInt64(rng.below(1 << 40))       // random
                case 4: key = UInt64(max(0, i + rng.below(200) - 100))  // nearly sorted, as logs come
                case 5: key = UInt64.max - UInt64(rng.below(1 << 20))   // the top of the range
                default: key = rng.below(2) == 0 ? UInt64(rng.below(1000)) : UInt64(1) << 62 | UInt64(rng.below(9))  // two clusters far apart
                }
                let r = JoinRecord(key: key, millis: rng.below(100))
                records.append(r)
                plain.append(r)
            }
            records.sortInPlace()
            let sorted = records.withRecords { Array($0).map { [$0.key, UInt64($0.millis)] } }
            #expect(sorted == plain.sorted { $0 < $1 }.map { [$0.key, UInt64($0.millis)] })
        }
    }

    @Test func selectionGivesTheNearestRanksOfASort() {
        var rng = SeededRandom(seed: 3)
        for n in [1, 2, 3, 10, 99, 100, 101, 1_000, 4_096, 4_097, 20_000, 100_000] {
            for spread in [1, 5, 1_000_000, -1] {
                // spread -1: a few huge outliers over a narrow mass (the histogram's buckets
                // are then too coarse at first, and the one that matters is looked into again).
                let values = (0..<n).map { k in
                    spread > 0 ? rng.below(spread) * 1000 : (k % 5_000 == 7 ? 1 << 50 : rng.below(3_000))
                }
                let sorted = values.sorted()
                func rank(_ q: Double) -> Double { Double(sorted[min(max(Int((q * Double(n)).rounded(.up)), 1), n) - 1]) / 60_000 }
                let stats = FreezeStats(latencies: values, slaMillis: 500_000)
                #expect(stats.count == n)
                #expect(stats.p50Minutes == rank(0.5), "n \(n) spread \(spread)")
                #expect(stats.p90Minutes == rank(0.9), "n \(n) spread \(spread)")
                #expect(stats.p99Minutes == rank(0.99), "n \(n) spread \(spread)")
                #expect(stats.maxMinutes == Double(sorted.last!) / 60_000)
                #expect(stats.withinSLA == Double(sorted.filter { $0 <= 500_000 }.count) / Double(n))
                #expect(values.sorted() == sorted)  // reordered, nothing lost
            }
        }
    }
}
