import AOCPipe
/// What a generator wrote, counted by the generator itself: the independent truth that tests
/// and benchmarks compare aocpipe's output with.
public struct GeneratorTruth: Sendable, Equatable {
    public struct Day: Sendable, Equatable {
        public var day: String
        public var calls: Int
        public var accountsFrozen: Int
    }

    public var days: [Day]
    public var files: [String]
    /// Mean freeze latency in minutes over all frozen accounts.
    public var meanFreezeMinutes: Double

    public var calls: Int { days.reduce(0) { $0 + $1.calls } }
    public var accountsFrozen: Int { days.reduce(0) { $0 + $1.accountsFrozen } }

    public var json: String {
        "{\"calls\":\(calls),\"accounts_frozen\":\(accountsFrozen),\"freeze_minutes_mean\":\(Text.decimal(meanFreezeMinutes, places: 6)),\"days\":["
            + days.map { "{\"day\":\"\($0.day)\",\"calls\":\($0.calls),\"accounts_frozen\":\($0.accountsFrozen)}" }.joined(separator: ",")
            + "]}\n"
    }

    /// Counts keyed by local date, sorted.
    static func from(calls: [Int: Int], frozen: [Int: Int], files: [String], meanFreezeMinutes: Double) -> GeneratorTruth {
        let keys = Set(calls.keys).union(frozen.keys).sorted()
        return GeneratorTruth(days: keys.map { k in
            let (y, m, d) = CivilTime.civilFromDays(k)
            return Day(day: "\(Text.pad(y, 4))-\(Text.pad(m, 2))-\(Text.pad(d, 2))", calls: calls[k] ?? 0, accountsFrozen: frozen[k] ?? 0)
        }, files: files, meanFreezeMinutes: meanFreezeMinutes)
    }
}

/// Shared pieces of the profiles: call shapes through the day and freeze latencies.
enum CallModel {
    /// Relative hotline traffic by local hour of day: quiet at night, busy in office hours.
    static let hourWeights: [Double] = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6.0, 6.5, 6.3,
                                        5.5, 6.0, 6.3, 6.0, 5.5, 4.8, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5]
    static let cumulativeHourWeights: [Double] = {
        var sum = 0.0
        return hourWeights.map { sum += $0; return sum }
    }()
    static let failedDispositions: [StaticString] = ["NO ANSWER", "NO ANSWER", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"]

    /// Fills in how a call that starts at `start` went: answered by an agent or not.
    static func call(start: Int, src: Int, sequence: Int, rng: inout SeededRandom,
                     dst: StaticString = "1441", context: StaticString = "aoc-hotline") -> GeneratedCall {
        if rng.below(100) < 87 {
            let answer = start + rng.int(4...90)
            let talk = Int(_exp(5.6 + 0.7 * rng.normal())).clamped(20, 3600)
            return GeneratedCall(src: src, dst: dst, dcontext: context, start: start, answer: answer, end: answer + talk,
                                 disposition: "ANSWERED", agent: rng.int(1...60), sequence: sequence)
        }
        let end = start + rng.int(5...120)
        return GeneratedCall(src: src, dst: dst, dcontext: context, start: start, answer: nil, end: end,
                             disposition: failedDispositions[rng.below(failedDispositions.count)], agent: 0, sequence: sequence)
    }

    /// A non-hotline call the same server logs (other numbers, internal transfers): never counted.
    static let otherNumbers: [(StaticString, StaticString)] = [("14410", "aoc-hotline"), ("01441", "from-trunk"),
                                                               ("1442", "from-trunk"), ("2001", "from-internal")]

    /// Freeze latency in seconds: right-skewed around 13 minutes, between 4 and 60 minutes.
    static func freezeLatency(rng: inout SeededRandom) -> Int {
        Int(_exp(_log(780) + 0.45 * rng.normal())).clamped(240, 3600)
    }
}

extension Int {
    func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}
