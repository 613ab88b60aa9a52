import Foundation

/// What the fuzzers in `Fuzz/` run, one entry per target, and what `swift test` replays for
/// every input they ever found (`Fuzz/Regressions/`) and their seeds: the real path through the
/// stages, so a finding is a finding in aocpipe. Each entry must return, without crashing and
/// in time and memory bounded by its input, whatever bytes it is given.
public enum FuzzEntries {
    public enum Target: String, CaseIterable, Sendable {
        case cdr, json, gzip, checkpoint, pipeline
    }

    /// Runs `target` on `data`; `scratch` is a path it may write (the file reading stages need a file).
    public static func run(_ target: Target, _ data: [UInt8], scratch: String) {
        switch target {
        case .cdr: readAsFile(data, format: .asteriskCDR, scratch: scratch)
        case .json: readAsFile(data, format: .freezeJSONL, scratch: scratch)
        case .gzip:
            readAsFile(data, format: .asteriskCDR, scratch: scratch)
            decodeLiveAndFinite(scratch: scratch)
        case .checkpoint: decodeCheckpoint(payload: data)
        case .pipeline: _ = try? PipelineConfig.parse(yaml: String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        }
    }

    /// Two sources, one of each format, default rules: what the checkpoint target decodes against.
    static let config: PipelineConfig = {
        var c = try! PipelineConfig.parse(yaml: """
            name: fuzz
            sources:
              - { name: telephony, format: asterisk-cdr, paths: [x], hotline: ["1441", "021441"], contexts: [aoc-hotline] }
              - { name: freeze, format: freeze-jsonl, paths: [y] }
            """, file: "fuzz.yaml")
        c.maxLineBytes = 512  // long lines are exercised at a size a fuzzer reaches
        return c
    }()

    /// Batch's reading of one file (decode, frame, parse, make calls), at a buffer size and
    /// thread count the input's length picks, then the report built from it, as batch does.
    static func readAsFile(_ data: [UInt8], format: PipelineConfig.Format, scratch: String) {
        guard FileManager.default.createFile(atPath: scratch, contents: Data(data)) else { return }
        let source = config.sources.first { $0.format == format }!
        var processor = FileProcessor(maxLineBytes: config.maxLineBytes, threads: 1 + data.count % 2)
        processor.chunkSize = [64, 512, 4096, 1 << 16][data.count % 4]
        processor.readSize = [1, 7, 256, 1 << 16][(data.count / 4) % 4]
        processor.eventTimes = config.eventTimes(nowMillis: wallClockMillis())
        guard var result = try? processor.process(path: scratch, source: source, reportZone: config.zone) else { return }
        var aggregate = result.aggregate.take()
        _ = CallSegment.joined([result.calls], lateness: config.latenessMillis, into: &aggregate)
        var stats = Array(repeating: InputStats(), count: config.sources.count)
        stats[format == .asteriskCDR ? 0 : 1] = result.stats
        _ = Report(config: config, aggregate: aggregate, sources: stats)
    }

    /// A gzip file decoded finite (batch) and live (follow), at every read size the input
    /// picks: live, read to a standstill, must give the bytes finite decoding gives (both with
    /// zlib) up to where finite decoding found the file cut.
    static func decodeLiveAndFinite(scratch: String) {
        guard let file = try? InputFile(path: scratch), (try? Decoding.isGzip(file)) == true else { return }
        let readSize = 1 + file.size % 97
        func decode(live: Bool) -> ([UInt8], [DecodeDamage])? {
            guard let decoder = try? GzipDecoder(file: file, readSize: readSize, live: live, engine: .zlib) else { return nil }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 + readSize * 3, alignment: 1)
            defer { buffer.deallocate() }
            var out: [UInt8] = []
            while out.count < 64 << 20 {
                guard let (n, gap) = try? decoder.read(into: buffer) else { return nil }
                out += buffer[0..<n]
                if n == 0 && !gap { break }
            }
            return (out, decoder.damage)
        }
        guard let finite = decode(live: false), let live = decode(live: true) else { return }
        let cut = finite.1.last.map { $0.kind == .truncatedMember && $0.resumedAt == nil } ?? false
        if cut {
            precondition(finite.0.starts(with: live.0) || live.0.starts(with: finite.0), "live and finite decoding disagree before a cut")
        } else {
            precondition(live.0 == finite.0, "live and finite decoding disagree")
        }
    }

    /// A checkpoint whose payload is `payload` (header and CRC made right, so the fuzzer gets
    /// past them to the decoder), decoded, and when it decodes, encoded again and decoded alike.
    static func decodeCheckpoint(payload: [UInt8]) {
        var header = ByteWriter()
        header.bytes = Checkpoint.magic
        header.fixed32(Checkpoint.version)
        header.fixed64(UInt64(payload.count))
        header.fixed32(Checkpoint.crc(payload))
        guard let c = try? Checkpoint.decode(header.bytes + payload, path: "fuzz", config: config) else { return }
        let again = c.encoded()
        let twice = try? Checkpoint.decode(again, path: "fuzz", config: config)
        precondition(twice?.encoded() == again, "a decoded checkpoint does not encode and decode to itself")
    }
}
