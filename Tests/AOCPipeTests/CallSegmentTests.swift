import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// The call table and the call segment against plain reference implementations.
@Suite struct CallSegmentTests {
    @Test func tableAgreesWithADictionary() {
        var rng = SeededRandom(seed: 11)
        var table = CallTable()
        var reference: [UInt64: Int] = [:]
        var mismatches = 0
        for step in 0..<200_000 {
            // Few distinct low bits: long probe runs, wrap-around at the table's end.
            let key = UInt64(1 + rng.below(3000)) << 40 | UInt64(rng.below(64))
            switch rng.below(10) {
            case 0...4:
                let v = rng.below(1_000_000)
                table.set(key, v)
                reference[key] = v
            case 5...7:
                if table.remove(key) != reference.removeValue(forKey: key) { mismatches += 1 }
            case 8:
                if table[key] != reference[key] { mismatches += 1 }
            default:
                if step % 97 == 0 {
                    // Values as calls hold them: start << 1 | answered.
                    let cut = rng.below(500_000), keep = rng.below(500_000)
                    var kept: [UInt64: Int] = [:]
                    for slot in table.removeCalls(startedBefore: cut, returning: keep) { kept[slot.key] = slot.value }
                    #expect(kept == reference.filter { $0.value >> 1 < cut && $0.value >> 1 <= keep })
                    reference = reference.filter { $0.value >> 1 >= cut }
                }
            }
            if step % 1000 == 0 { #expect(table.count == reference.count) }
        }
        #expect(table.count == reference.count)
        #expect(mismatches == 0)
        var all: [UInt64: Int] = [:]
        table.forEach { all[$0] = $1 }
        #expect(all == reference)
    }

    /// Calls per hour (UTC hour start) and late lines, by the rule written out plainly: a line
    /// older than the watermark by more than the lateness is late; a key whose call started
    /// more than the lateness before the watermark starts a new call.
    static func reference(_ lines: [CallObservation], lateness: Int) -> (hours: [Int: [Int]], late: Int) {
        var open: [UInt64: (start: Int, answered: Bool)] = [:]
        var calls: [(start: Int, answered: Bool)] = []
        var index: [UInt64: Int] = [:]
        var watermark = Int.min, late = 0
        for l in lines {
            if watermark != Int.min && l.millis < watermark - lateness { late += 1; continue }
            watermark = max(watermark, l.millis)
            if let c = open[l.key], c.start >= watermark - lateness {
                let merged = (min(c.start, l.millis), c.answered || l.answered)
                open[l.key] = merged
                calls[index[l.key]!] = merged
            } else {
                open[l.key] = (l.millis, l.answered)
                index[l.key] = calls.count
                calls.append((l.millis, l.answered))
            }
        }
        var hours: [Int: [Int]] = [:]
        for c in calls {
            let h = CivilTime.floorDiv(c.start, 3_600_000) * 3600
            hours[h, default: [0, 0]][0] += 1
            if c.answered { hours[h, default: [0, 0]][1] += 1 }
        }
        return (hours, late)
    }

    static func hours(_ a: PartialAggregate) -> [Int: [Int]] {
        var out: [Int: [Int]] = [:]
        for (start, c) in zip(a.hourStarts, a.hourCounters) where c.calls != 0 || c.callsAnswered != 0 {
            out[start] = [c.calls, c.callsAnswered]
        }
        return out
    }

    /// Lines of calls up to half an hour long, written at hang-up; `hostile`: ids that come
    /// back within the hour and lines now and then hours late.
    static func stream(seed: UInt64, calls: Int, hostile: Bool) -> [CallObservation] {
        var rng = SeededRandom(seed: seed)
        var pending: [(written: Int, line: CallObservation)] = []
        var t = 1_700_000_000_000
        for call in 0..<calls {
            t += rng.int(1...120_000)
            let key = hostile ? UInt64(1 + rng.below(400)) : UInt64(call + 1)
            let answered = rng.below(3) != 0
            let n = 1 + rng.below(5)
            let end = t + rng.int(10_000...1_800_000)
            for k in 0..<n {
                let start = k == 0 ? t : t + rng.int(0...(end - t))
                var written = end
                if hostile && rng.below(50) == 0 { written += rng.int(0...20_000_000) }  // hours late
                pending.append((written, CallObservation(key: key, millis: start, answered: answered && k == n - 1)))
            }
        }
        return pending.enumerated().sorted { ($0.element.written, $0.offset) < ($1.element.written, $1.offset) }.map(\.element.line)
    }

    @Test(arguments: [false, true])
    func observeFollowsTheRuleWhateverTheSweeps(hostile: Bool) {
        let lateness = 2 * 3_600_000
        let lines = Self.stream(seed: hostile ? 2 : 1, calls: 20_000, hostile: hostile)
        let expected = Self.reference(lines, lateness: lateness)
        var segment = CallSegment(lateness: lateness)
        var counts = PartialAggregate(reportZone: .utc)
        segment.observe(lines, into: &counts)
        #expect(Self.hours(counts) == expected.hours)
        #expect(segment.late == expected.late)
        if hostile { #expect(expected.late > 0) }
        // Memory: the calls of about the last lateness, not all of them.
        #expect(segment.openCount < 2_000)
    }

    @Test func segmentsAppendedGiveTheWholeStreamsCalls() {
        // Lines of a call within the lateness of each other: cut into parts of some hours
        // each (files: longer than a call, so their first lines' times give their order),
        // read apart and joined (batch's files), the calls are those of one reader.
        let lateness = 2 * 3_600_000
        let lines = Self.stream(seed: 3, calls: 20_000, hostile: false)
        var whole = CallSegment(lateness: lateness)
        var wholeCounts = PartialAggregate(reportZone: .utc)
        whole.observe(lines, into: &wholeCounts)
        var rng = SeededRandom(seed: 4)
        for _ in 0..<5 {
            var cuts = [0]
            for c in Set((0..<rng.int(1...12)).map { _ in rng.below(lines.count) }).sorted()
            where c - cuts.last! >= 500 && lines.count - c >= 500 { cuts.append(c) }
            cuts.append(lines.count)
            var parts: [CallSegment] = []
            var counts = PartialAggregate(reportZone: .utc)
            for (a, b) in zip(cuts, cuts.dropFirst()) {
                var part = CallSegment(lateness: lateness)
                var partCounts = PartialAggregate(reportZone: .utc)
                part.observe(Array(lines[a..<b]), into: &partCounts)
                counts.merge(partCounts)
                parts.append(part)
            }
            // In any order: joined by their first line's time.
            parts.shuffle(using: &rng)
            let (joined, overlapping) = CallSegment.joined(parts, lateness: lateness, into: &counts)
            #expect(overlapping.isEmpty)
            let got = Self.hours(counts), want = Self.hours(wholeCounts)
            let diff = Set(got.keys).union(want.keys).filter { got[$0] != want[$0] }.sorted().map { "\($0): \(got[$0] ?? []) vs \(want[$0] ?? [])" }
            #expect(diff.isEmpty, "cut at \(cuts): \(diff)")
            #expect(joined.late == whole.late)
        }
    }

    @Test func aCheckpointedSegmentGoesOnAsIfNeverStopped() throws {
        let lateness = 2 * 3_600_000
        let lines = Self.stream(seed: 5, calls: 5_000, hostile: true)
        var whole = CallSegment(lateness: lateness)
        var wholeCounts = PartialAggregate(reportZone: .utc)
        whole.observe(lines, into: &wholeCounts)
        for cut in [1, lines.count / 3, lines.count / 2, lines.count - 1] {
            var first = CallSegment(lateness: lateness)
            var counts = PartialAggregate(reportZone: .utc)
            first.observe(Array(lines[..<cut]), into: &counts)
            var w = ByteWriter()
            first.encode(&w)
            var r = ByteReader(w.bytes)
            var resumed = try CallSegment.decode(&r)
            #expect(r.atEnd)
            resumed.observe(Array(lines[cut...]), into: &counts)
            #expect(Self.hours(counts) == Self.hours(wholeCounts), "stopped after \(cut) lines")
            #expect(resumed.late == whole.late)
        }
    }
}
