import AOCPipe
import Dispatch
import Foundation
import Synchronization

/// Large realistic log sets for performance tests: `--days`, `--calls-per-day`, `--files`,
/// `--seed`, `--gzip`. Each file is generated from its own seed-derived random stream, so
/// files are written in parallel and the same options give byte-identical files.
public struct SyntheticProfile: Sendable {
    public var days = 7
    public var callsPerDay = 100_000
    /// First day, local date `YYYY-MM-DD`.
    public var startDay = CivilTime.daysFromCivil(year: 2024, month: 1, day: 1)
    public var seed: UInt64 = 1
    /// Files per log (telephony and freeze each); time is split evenly between them.
    public var files = 1
    /// gzip level 1-9, or nil for plain text.
    public var gzipLevel: Int? = 6
    public var offset = 7 * 3600
    /// How calls are logged: several lines a call (a call centre's), or one.
    public var cdrStyle = CDRStyle.callcentre
    /// 18 columns (`loguniqueid`, `loguserfield`) or 21 (`newcdrcolumns` too: linkedid).
    public var cdrColumns = 18

    public init() {}

    struct FileTruth: Sendable {
        var calls: [Int: Int] = [:]
        var frozen: [Int: Int] = [:]
        var latencySum = 0
        var latencyCount = 0
    }

    public func generate(outDir: String) throws -> GeneratorTruth {
        let telephony = outDir + "/telephony", freeze = outDir + "/freeze"
        try FileManager.default.createDirectory(atPath: telephony, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: freeze, withIntermediateDirectories: true)
        let suffix = gzipLevel == nil ? "" : ".gz"
        let width = max(String(files).count, 4)
        let names = (0..<files).map { k in
            (telephony + "/Master.csv-" + Text.pad(k + 1, width) + suffix, freeze + "/freeze.jsonl-" + Text.pad(k + 1, width) + suffix)
        }
        let results = Locked([Int: Result<FileTruth, Error>]())
        let profile = self
        DispatchQueue.concurrentPerform(iterations: files) { k in
            let r = Result { try profile.generateFile(k, cdr: names[k].0, freeze: names[k].1) }
            results.withLock { $0[k] = r }
        }
        var calls: [Int: Int] = [:], frozen: [Int: Int] = [:]
        var sum = 0, count = 0
        for k in 0..<files {
            let t = try results.withLock { $0[k]! }.get()
            calls.merge(t.calls, uniquingKeysWith: +)
            frozen.merge(t.frozen, uniquingKeysWith: +)
            sum += t.latencySum
            count += t.latencyCount
        }
        let truth = GeneratorTruth.from(calls: calls, frozen: frozen, files: names.flatMap { [$0.0, $0.1] },
                                        meanFreezeMinutes: count == 0 ? 0 : Double(sum) / Double(count) / 60)
        try AtomicFile.write(truth.json, to: outDir + "/truth.json")
        let abs = URL(fileURLWithPath: outDir).standardizedFileURL.path
        try AtomicFile.write("""
            # Written by `aocpipe generate --profile synthetic`; truth.json holds the expected counts.
            name: synthetic
            timezone: \(offset == 7 * 3600 ? "Asia/Bangkok" : "UTC")
            sources:
              - name: telephony
                format: asterisk-cdr
                paths: ["\(abs)/telephony/Master.csv*"]\(cdrColumns == 21 ? "\n    not_agents: [\"Local/\"]   # the dial plan reaches the queue through a Local channel" : "")
              - name: freeze
                format: freeze-jsonl
                paths: ["\(abs)/freeze/freeze.jsonl*"]

            """, to: outDir + "/pipeline.yaml")
        return truth
    }

    /// File `k` covers the `k`-th slice of the time range and holds its share of the calls.
    func generateFile(_ k: Int, cdr: String, freeze: String) throws -> FileTruth {
        var rng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k) &* 0xD1B5_4A32_D192_ED03)
        let rangeStart = startDay * 86_400 - offset
        let span = days * 86_400
        let from = rangeStart + span * k / files, to = rangeStart + span * (k + 1) / files
        let total = days * callsPerDay
        let count = total * (k + 1) / files - total * k / files
        var truth = FileTruth()

        // Call starts, shaped by hour of day (rejection sampling), sorted.
        var starts: [Int] = []
        starts.reserveCapacity(count)
        let maxWeight = CallModel.hourWeights.max()!
        while starts.count < count {
            let t = from + rng.below(max(to - from, 1))
            let hour = CivilTime.floorMod(t + offset, 86_400) / 3600
            if rng.unit() * maxWeight < CallModel.hourWeights[hour] { starts.append(t) }
        }
        starts.sort()

        let cdrWriter = try LogWriter(path: cdr, gzipLevel: gzipLevel)
        var events: [(time: Int, event: GeneratedFreezeEvent)] = []
        var line: [UInt8] = []
        line.reserveCapacity(1 << 20)
        var caseNumber = 0
        // A call centre writes a call's lines when it ends: calls wait here until no call
        // still to come can end before them.
        var ending: [GeneratedCall] = []
        func writeEnded(before time: Int) throws {
            ending.sort { ($0.end, $0.sequence) < ($1.end, $1.sequence) }
            let n = ending.firstIndex { $0.end > time } ?? ending.count
            for c in ending[..<n] {
                c.appendLines(to: &line, offset: offset, style: cdrStyle, columns: cdrColumns, seed: seed)
                if line.count > (1 << 20) - 65_536 {
                    try cdrWriter.write(line)
                    line.removeAll(keepingCapacity: true)
                }
            }
            ending.removeFirst(n)
        }
        for (i, start) in starts.enumerated() {
            let sequence = k * 10_000_000 + 2 * i
            let other = rng.below(50) == 0
            let call: GeneratedCall
            if other {
                let (dst, context) = CallModel.otherNumbers[rng.below(CallModel.otherNumbers.count)]
                call = CallModel.call(start: start, src: 600_000_000 + rng.below(399_999_999), sequence: sequence,
                                      rng: &rng, dst: dst, context: context)
            } else {
                call = CallModel.call(start: start, src: 800_000_000 + rng.below(199_999_999), sequence: sequence, rng: &rng)
                truth.calls[CivilTime.floorDiv(start + offset, 86_400), default: 0] += 1
            }
            if cdrStyle == .simple && cdrColumns == 18 {
                call.append(to: &line, offset: offset)  // in start order, as it always was
                if line.count > (1 << 20) - 1024 {
                    try cdrWriter.write(line)
                    line.removeAll(keepingCapacity: true)
                }
            } else {
                ending.append(call)
                if ending.count >= 8192 { try writeEnded(before: start) }
            }
            // About one answered hotline call in eight reports a case; most freeze 1-2 accounts.
            guard !other, let answer = call.answer, rng.below(8) == 0 else { continue }
            caseNumber += 1
            let reported = answer + rng.int(60...300)
            let day = CivilTime.floorDiv(reported + offset, 86_400)
            // Case ids are unique across files: the file's index leads the number.
            var e = GeneratedFreezeEvent(kind: .reported, time: reported, caseDay: day, caseNumber: k * 10_000_000 + caseNumber,
                                         bank: 0, account: 0, callStart: call.start, callSequence: sequence, failure: 0)
            events.append((reported, e))
            guard rng.below(4) != 0 else { continue }
            for _ in 0..<(rng.below(4) == 0 ? 2 : 1) {
                let latency = CallModel.freezeLatency(rng: &rng)
                e.bank = rng.below(8)
                e.account = rng.below(10_000)
                e.kind = .requested
                e.time = reported + rng.int(30...150)
                events.append((e.time, e))
                if rng.below(20) == 0 {
                    e.kind = .failed
                    e.failure = rng.below(3)
                    e.time = reported + latency
                    events.append((e.time, e))
                    continue
                }
                e.kind = .frozen
                e.time = reported + latency
                events.append((e.time, e))
                truth.frozen[CivilTime.floorDiv(e.time + offset, 86_400), default: 0] += 1
                truth.latencySum += latency
                truth.latencyCount += 1
            }
        }
        try writeEnded(before: .max)
        try cdrWriter.write(line)
        try cdrWriter.finish()

        events.sort { $0.time < $1.time }
        let freezeWriter = try LogWriter(path: freeze, gzipLevel: gzipLevel)
        line.removeAll(keepingCapacity: true)
        for (n, item) in events.enumerated() {
            item.event.append(to: &line, offset: offset, sequence: n)
            if line.count > (1 << 20) - 1024 {
                try freezeWriter.write(line)
                line.removeAll(keepingCapacity: true)
            }
        }
        try freezeWriter.write(line)
        try freezeWriter.finish()
        return truth
    }
}
