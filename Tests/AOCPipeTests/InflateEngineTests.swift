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

    @Test func theDefaultBuildNeedsOnlyZlib() {
        #expect(InflateEngines.available.contains(.zlib))
    }
}
