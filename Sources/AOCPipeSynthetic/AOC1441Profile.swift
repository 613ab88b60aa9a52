import AOCPipe
import Foundation

/// The hotline's first 14 days (1-14 November 2023): logs that reproduce the published table
/// (docs/FORMATS.md, "The published table") exactly, with a mean freeze time of exactly 15 minutes.
///
/// Files are left as logrotate (`daily`, `dateext`, `dateyesterday`, `compress`) leaves them:
/// `Master.csv-20231101.gz` holds the lines written on 1 November, and so on; the last day is
/// still the plain live file. Asterisk writes a call when it ends, so a call that starts before
/// midnight and ends after it sits in the next day's file but counts on the day it started.
public enum AOC1441Profile {
    public static let name = "aoc1441-2023-11"

    /// (calls, accounts frozen) per day, 1-14 November 2023.
    public static let published: [(calls: Int, frozen: Int)] = [
        (1310, 12), (2752, 73), (2711, 137), (2820, 124), (2037, 125), (3370, 209), (3241, 206),
        (3306, 268), (3466, 243), (3175, 235), (2244, 175), (1869, 197), (2932, 318), (3331, 349),
    ]

    static let offset = 7 * 3600
    static let seed: UInt64 = 0x1441_2023_1101
    static var firstDay: Int { CivilTime.daysFromCivil(year: 2023, month: 11, day: 1) }

    /// A case as generated: when it was reported, from which call, and its accounts.
    struct Case {
        var reported: Int
        var call: GeneratedCall
        var latencies: [Int]
        var failedAccount: (requestAfter: Int, failAfter: Int)?
    }

    /// `style`: the call centre's several lines a call (the sample logs) or one line a call.
    public static func generate(outDir: String, style: CDRStyle = .callcentre, columns: Int = 18) throws -> GeneratorTruth {
        var rng = SeededRandom(seed: seed)
        let days = published.count
        func dayStart(_ d: Int) -> Int { (firstDay + d) * 86_400 - offset }

        // Calls: hotline calls per the table, plus 2% other numbers the server also logs.
        var calls: [GeneratedCall] = []
        for d in 0..<days {
            for _ in 0..<published[d].calls {
                let hour = rng.pick(cumulative: CallModel.cumulativeHourWeights)
                let start = dayStart(d) + hour * 3600 + rng.below(3600)
                calls.append(CallModel.call(start: start, src: 800_000_000 + rng.below(199_999_999), sequence: 0, rng: &rng))
            }
            for _ in 0..<(published[d].calls / 50) {
                let (dst, context) = CallModel.otherNumbers[rng.below(CallModel.otherNumbers.count)]
                let start = dayStart(d) + rng.below(86_400)
                calls.append(CallModel.call(start: start, src: 600_000_000 + rng.below(399_999_999), sequence: 0,
                                            rng: &rng, dst: dst, context: context))
            }
        }
        calls.sort { $0.start < $1.start }
        for i in calls.indices { calls[i].sequence = 4711 + 2 * i }

        // Accounts frozen per day, grouped in cases of 1-3 accounts, with latencies whose
        // mean is exactly 15 minutes.
        var groups: [[Int]] = []   // per day: accounts per case
        var latencies: [Int] = []
        for d in 0..<days {
            var remaining = published[d].frozen
            var sizes: [Int] = []
            while remaining > 0 {
                let r = rng.below(10)
                let k = min(r < 7 ? 1 : (r < 9 ? 2 : 3), remaining)
                sizes.append(k)
                remaining -= k
            }
            groups.append(sizes)
        }
        let accounts = published.reduce(0) { $0 + $1.frozen }
        for _ in 0..<accounts { latencies.append(CallModel.freezeLatency(rng: &rng)) }
        var diff = accounts * 900 - latencies.reduce(0, +)
        var i = 0
        while diff != 0 {
            let step = diff > 0 ? 1 : -1
            let v = latencies[i] + step
            if v >= 240 && v <= 3600 { latencies[i] = v; diff -= step }
            i = (i + 1) % latencies.count
        }

        // Place each case on a hotline call answered shortly before, so that every frozen
        // event falls inside its day. Calls from the last hour of the day before may report
        // cases frozen after midnight: the join then spans two files.
        let hotline = calls.filter { $0.answer != nil && $0.dcontext.description == "aoc-hotline" && $0.dst.description == "1441" }
        var used = Set<Int>()
        var cases: [Case] = []
        var next = 0
        for d in 0..<days {
            let lo = dayStart(d) - 3600, hi = dayStart(d + 1)
            let candidates = hotline.filter { $0.answer! >= lo && $0.answer! < hi }
            for size in groups[d] {
                let lat = Array(latencies[next..<(next + size)])
                next += size
                var placed = false
                for _ in 0..<100_000 {
                    let call = candidates[rng.below(candidates.count)]
                    if used.contains(call.sequence) { continue }
                    let reported = call.answer! + rng.int(60...300)
                    guard lat.allSatisfy({ reported + $0 >= dayStart(d) && reported + $0 < hi - 600 }) else { continue }
                    used.insert(call.sequence)
                    let failed = rng.below(100) < 8 ? (rng.int(30...150), rng.int(300...1500)) : nil
                    cases.append(Case(reported: reported, call: call, latencies: lat, failedAccount: failed))
                    placed = true
                    break
                }
                precondition(placed, "generator could not place a case on day \(d)")
            }
            // Consultations that freeze nothing: reported only.
            for _ in 0..<(published[d].frozen / 3 + 5) {
                let call = candidates[rng.below(candidates.count)]
                if used.contains(call.sequence) { continue }
                let reported = call.answer! + rng.int(60...300)
                guard reported >= dayStart(d), reported < hi else { continue }
                used.insert(call.sequence)
                cases.append(Case(reported: reported, call: call, latencies: [], failedAccount: nil))
            }
        }

        // Events, numbered per local day of report, in report order.
        cases.sort { ($0.reported, $0.call.sequence) < ($1.reported, $1.call.sequence) }
        var events: [GeneratedFreezeEvent] = []
        var numberOnDay: [Int: Int] = [:]
        var frozenPerDay: [Int: Int] = [:]
        for c in cases {
            let day = CivilTime.floorDiv(c.reported + offset, 86_400)
            let number = (numberOnDay[day] ?? 0) + 1
            numberOnDay[day] = number
            var e = GeneratedFreezeEvent(kind: .reported, time: c.reported, caseDay: day, caseNumber: number, bank: 0,
                                         account: 0, callStart: c.call.start, callSequence: c.call.sequence, failure: 0)
            events.append(e)
            for (k, latency) in c.latencies.enumerated() {
                e.bank = rng.below(GeneratedFreezeEvent.banks.count)
                e.account = rng.below(10_000)
                e.kind = .requested
                e.time = c.reported + rng.int(30...min(150, latency - 60))
                events.append(e)
                e.kind = .frozen
                e.time = c.reported + latency
                events.append(e)
                frozenPerDay[CivilTime.floorDiv(e.time + offset, 86_400), default: 0] += 1
                _ = k
            }
            if let (requestAfter, failAfter) = c.failedAccount {
                e.bank = rng.below(GeneratedFreezeEvent.banks.count)
                e.account = rng.below(10_000)
                e.kind = .requested
                e.time = c.reported + requestAfter
                events.append(e)
                e.kind = .failed
                e.failure = rng.below(GeneratedFreezeEvent.failures.count)
                e.time = min(c.reported + failAfter, (day + 1) * 86_400 - offset - 1)
                events.append(e)
            }
        }
        // Stable sort by time: the order the case system wrote them.
        events = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)

        // Write the files, split by the local day each line was written.
        let telephony = outDir + "/telephony", freeze = outDir + "/freeze"
        try FileManager.default.createDirectory(atPath: telephony, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: freeze, withIntermediateDirectories: true)
        let lastDay = firstDay + days - 1
        func fileName(_ base: String, day: Int) -> (String, Int?) {
            guard day < lastDay else { return (base, nil) }
            let (y, m, dd) = CivilTime.civilFromDays(day)
            return (base + "-" + Text.pad(y * 10_000 + m * 100 + dd, 8) + ".gz", 6)
        }
        var files: [String] = []
        var byEnd = calls
        byEnd.sort { ($0.end, $0.sequence) < ($1.end, $1.sequence) }
        files += try writeSplit(byEnd, dir: telephony, base: "Master.csv", day: { CivilTime.floorDiv($0.end + offset, 86_400) },
                                name: fileName) { call, line, _ in call.appendLines(to: &line, offset: offset, style: style, columns: columns, seed: seed) }
        files += try writeSplit(events, dir: freeze, base: "freeze.jsonl", day: { CivilTime.floorDiv($0.time + offset, 86_400) },
                                name: fileName) { event, line, n in event.append(to: &line, offset: offset, sequence: n) }

        var callsPerDay: [Int: Int] = [:]
        for c in calls where c.dst.description == "1441" { callsPerDay[CivilTime.floorDiv(c.start + offset, 86_400), default: 0] += 1 }
        let mean = Double(latencies.reduce(0, +)) / Double(latencies.count) / 60
        return GeneratorTruth.from(calls: callsPerDay, frozen: frozenPerDay, files: files, meanFreezeMinutes: mean)
    }

    /// Writes `items` (already in write order) into one file per local day.
    static func writeSplit<T>(_ items: [T], dir: String, base: String, day: (T) -> Int,
                              name: (String, Int) -> (String, Int?),
                              format: (T, inout [UInt8], Int) -> Void) throws -> [String] {
        var files: [String] = []
        var current: (name: String, writer: LogWriter)?
        var line: [UInt8] = []
        line.reserveCapacity(1024)
        for (n, item) in items.enumerated() {
            let (file, level) = name(base, day(item))
            if current?.name != file {
                try current?.writer.finish()
                current = (file, try LogWriter(path: dir + "/" + file, gzipLevel: level))
                files.append(dir + "/" + file)
            }
            line.removeAll(keepingCapacity: true)
            format(item, &line, n)
            try current!.writer.write(line)
        }
        try current?.writer.finish()
        return files
    }
}
