import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

@Suite struct GzipDecoderTests {
    static func lines(_ prefix: String, _ n: Int) -> String {
        (0..<n).map { "\(prefix) line \($0) with some text to compress\n" }.joined()
    }

    let a = Self.lines("A", 30), b = Self.lines("B", 40), c = Self.lines("C", 25)

    @Test func multiMemberAtEveryChunkSize() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("multi.gz", gzipMember(a) + gzipMember(b) + gzipMember(c))
        let expected = Array((a + b + c).utf8)
        for readSize in 1...48 {
            let outSize = [1, 2, 3, 7, 64, 4096][readSize % 6]
            let r = try decodeAll(path, readSize: readSize, outSize: outSize)
            #expect(r.text == expected, "read \(readSize) out \(outSize)")
            #expect(r.damage.isEmpty && r.gaps == 0)
        }
        for outSize in 1...48 {
            let r = try decodeAll(path, readSize: 4096, outSize: outSize)
            #expect(r.text == expected, "out \(outSize)")
        }
    }

    @Test func detectedByMagicNotName() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let gz = dir.file("looks-plain.log", gzipMember(a))
        let plain = dir.file("looks-gzip.gz", a)
        #expect(try decodeAll(gz, readSize: 100, outSize: 100).text == Array(a.utf8))
        #expect(try decodeAll(plain, readSize: 100, outSize: 100).text == Array(a.utf8))
        #expect(try Decoding.decoder(for: InputFile(path: gz)) is GzipDecoder)
        #expect(try Decoding.decoder(for: InputFile(path: plain)) is PlainDecoder)
    }

    @Test func trailingZeroPaddingIsTolerated() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("padded.gz", gzipMember(a) + gzipMember(b) + [UInt8](repeating: 0, count: 1000))
        for readSize in [1, 3, 512, 65536] {
            let r = try decodeAll(path, readSize: readSize, outSize: 100)
            #expect(r.text == Array((a + b).utf8))
            #expect(r.damage.isEmpty)
        }
    }

    @Test func garbageBetweenMembersIsReportedAndSkipped() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let m1 = gzipMember(a)
        let junk = Array("not gzip at all".utf8)
        let path = dir.file("junk.gz", m1 + junk + gzipMember(b))
        for readSize in [1, 2, 7, 4096] {
            let r = try decodeAll(path, readSize: readSize, outSize: 33)
            #expect(r.text == Array((a + b).utf8))
            #expect(r.damage == [DecodeDamage(path: path, kind: .garbage, offset: m1.count, resumedAt: m1.count + junk.count)])
        }
    }

    @Test func truncatedMemberKeepsWhatCameBefore() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let m1 = gzipMember(a)
        let m2 = gzipMember(b)
        let path = dir.file("cut.gz", m1 + m2.prefix(m2.count / 2))
        for readSize in [1, 5, 4096] {
            let r = try decodeAll(path, readSize: readSize, outSize: 50)
            #expect(r.text.starts(with: Array(a.utf8)))
            #expect(r.text.count > a.utf8.count, "some of the cut member decodes")
            let decodedB = String(decoding: r.text.dropFirst(a.utf8.count), as: UTF8.self)
            #expect(b.hasPrefix(decodedB), "only a prefix of B, no invented bytes")
            #expect(r.damage == [DecodeDamage(path: path, kind: .truncatedMember, offset: m1.count, resumedAt: nil)])
            #expect(r.gaps == 1)
        }
    }

    @Test func corruptMemberResyncsAtTheNextOne() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let m1 = gzipMember(a)
        var m2 = gzipMember(Self.lines("B", 400))
        for i in (m2.count / 2)..<(m2.count / 2 + 64) { m2[i] = 0xFF }
        let m3 = gzipMember(c)
        let path = dir.file("corrupt.gz", m1 + m2 + m3)
        for readSize in [1, 3, 64, 1 << 16] {
            let r = try decodeAll(path, readSize: readSize, outSize: 777)
            let text = String(decoding: r.text, as: UTF8.self)
            #expect(text.hasPrefix(a))
            #expect(text.hasSuffix(c))
            #expect(r.damage.first?.kind == .corruptMember)
            #expect(r.damage.first?.offset == m1.count)
            #expect(r.damage.last?.resumedAt == m1.count + m2.count)
            #expect(r.gaps >= 1)
        }
    }

    @Test func framedThroughTheDecoderLinesBeforeDamageCount() throws {
        // End to end through the file processor: the cut member's complete lines count, the
        // line cut in half is reported as truncated, the next file is unaffected.
        let dir = TempDir()
        defer { dir.remove() }
        let m2 = gzipMember(b)
        let path = dir.file("cut.gz", gzipMember(a) + m2.prefix(m2.count * 2 / 3))
        let source = PipelineConfig.Source(name: "t", format: .freezeJSONL, paths: [], zone: bangkok)
        var processor = FileProcessor(maxLineBytes: 1000)
        processor.chunkSize = 97
        processor.readSize = 13
        let r = try processor.process(path: path, source: source, reportZone: bangkok)
        let decoded = try decodeAll(path, readSize: 4096, outSize: 4096).text
        let completeLines = decoded.filter { $0 == 0x0A }.count
        #expect(r.stats.malformedByReason[.truncated] == 1)
        #expect(r.stats.malformedByReason[.badJSON] == completeLines)
        #expect(r.stats.lines == completeLines + 1)
        #expect(r.stats.damage.count == 1)
    }
}
