import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// Every inflate engine the build has gives the same bytes and reports the same damage.
/// (The default build has zlib only; `swift test --traits ISAL` adds ISA-L, and .ci/run runs both.)
@Suite struct InflateEngineTests {
    static func decode(_ path: String, engine: InflateEngines.Kind, readSize: Int, outSize: Int) throws -> ([UInt8], [DecodeDamage]) {
        let decoder = try GzipDecoder(file: InputFile(path: path), readSize: readSize, engine: engine)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: outSize, alignment: 1)
        defer { buffer.deallocate() }
        var out: [UInt8] = []
        while true {
            let (n, gap) = try decoder.read(into: buffer)
            out += buffer[0..<n]
            if n == 0 && !gap { break }
        }
        return (out, decoder.damage)
    }

    @Test func enginesAgreeOnGoodDamagedAndCutFiles() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let a = GzipDecoderTests.lines("A", 300), b = GzipDecoderTests.lines("B", 400), c = GzipDecoderTests.lines("C", 200)
        var corrupt = gzipMember(b)
        for i in (corrupt.count / 2)..<(corrupt.count / 2 + 40) { corrupt[i] ^= 0x5A }
        let cut = gzipMember(c)
        let files = [
            dir.file("good.gz", gzipMember(a) + gzipMember(b) + gzipMember(c) + [0, 0, 0, 0]),
            dir.file("corrupt.gz", gzipMember(a) + corrupt + gzipMember(c)),
            dir.file("cut.gz", gzipMember(a) + gzipMember(b) + cut.prefix(cut.count * 2 / 3)),
            dir.file("junk.gz", gzipMember(a) + Array("junk".utf8) + gzipMember(b)),
        ]
        for path in files {
            for (readSize, outSize) in [(1 << 16, 1 << 16), (1000, 333), (97, 4096), (7, 13)] {
                let reference = try Self.decode(path, engine: .zlib, readSize: readSize, outSize: outSize)
                for engine in InflateEngines.available {
                    let other = try Self.decode(path, engine: engine, readSize: readSize, outSize: outSize)
                    #expect(other.1 == reference.1, "\(engine) damage on \(path)")
                    if path.hasSuffix("corrupt.gz") {
                        // Inside a corrupt member, how much garbage comes out before the damage is
                        // detected is the engine's own; what is around it is the same.
                        #expect(other.0.starts(with: Array(a.utf8)) && reference.0.starts(with: Array(a.utf8)))
                        #expect(other.0.suffix(c.utf8.count) == reference.0.suffix(c.utf8.count))
                        #expect(String(decoding: other.0.suffix(c.utf8.count), as: UTF8.self) == c)
                    } else {
                        #expect(other.0 == reference.0, "\(engine) on \(path) read \(readSize) out \(outSize)")
                    }
                }
            }
        }
    }

    /// A differential test over a corpus of damaged files: 150 single-byte changes (fixed
    /// pseudo-random places and values) in a three-member file of 3.4 MB decoded (each member
    /// more than one of batch's 1 MiB buffers), decoded by both engines, every tenth also read
    /// through the whole path. ISA-L finds some damage
    /// later than zlib; what it gave out of the member is taken back (`GzipDecoder.holdBack`),
    /// so the bytes, lines, records, reasons and damage are the same. (Runs where ISA-L is
    /// built in: `.ci/run`'s ISA-L step.)
    @Test func enginesAgreeOnACorpusOfDamagedFiles() throws {
        guard InflateEngines.available.contains(.isal) else { return }
        let dir = TempDir()
        defer { dir.remove() }
        let members = (0..<3).map { m in
            gzipMember(Array((0..<4_000).map { k in
                EventTimeTests.cdr(EventTimeTests.nov1 + (m * 4_000 + k) * 20, sequence: m * 4_000 + k + 1)
            }.joined().utf8))
        }
        let base = members.joined().map { $0 }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {  // splitmix64: the same corpus every run
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        var damaged = 0
        for round in 0..<150 {
            var bytes = base
            let at = next() % bytes.count
            bytes[at] ^= UInt8(1 + next() % 255)
            let path = dir.file("Master.csv.gz", bytes)
            let zlib = try Self.decode(path, engine: .zlib, readSize: 1 << 18, outSize: 1 << 20)
            let isal = try Self.decode(path, engine: .isal, readSize: 1 << 18, outSize: 1 << 20)
            #expect(isal.0 == zlib.0 && isal.1 == zlib.1, "byte \(at) changed: \(isal.0.count) bytes from ISA-L, \(zlib.0.count) from zlib")
            if round % 10 == 0 {
                let a = try GzipCorpusTests.read(path, engine: .zlib, readSize: 1 << 18, bufferSize: 1 << 20)
                let b = try GzipCorpusTests.read(path, engine: .isal, readSize: 1 << 18, bufferSize: 1 << 20)
                #expect(a == b, "byte \(at) changed")
            }
            if !zlib.1.isEmpty { damaged += 1 }
        }
        #expect(damaged > 120)  // nearly every change is damage gzip can see
    }

    @Test func theDefaultBuildNeedsOnlyZlib() {
        #expect(InflateEngines.available.contains(.zlib))
    }
}
