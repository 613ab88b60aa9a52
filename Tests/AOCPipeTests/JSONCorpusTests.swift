import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A JSON conformance corpus for freeze-jsonl, by RFC 8259's grammar, rule by rule: each value
/// sits in a member nobody reads (first, in the middle, last); a valid one leaves the line a
/// record, an invalid one makes it `bad_json`. Lines go through the whole path, plain and
/// gzip, on one thread and two, so both builds (`.ci/run` runs this suite under ISA-L too)
/// are held to the same counts. Written after the categories of nst/JSONTestSuite, against
/// whose 318 files aocpipe was also run (docs/FORMATS.md, "Strict JSON").
@Suite(.serialized) struct JSONCorpusTests {
    static let valid: [String] = [
        // numbers: int, frac, exp (RFC 8259 section 6)
        "0", "-0", "1", "-1", "123456789012345678901234567890", "1.5", "-0.0", "0.1e1", "1e9", "1E+9", "1e-9",
        "1.0E-0009", "2e308", "-2e-400", "9007199254740993",
        // strings and every escape (section 7)
        #""""#, #""a""#, #""\"""#, #""\\""#, #""\/""#, #""\b\f\n\r\t""#, #""\u0000""#, #""\u00e9\u0E01""#,
        #""\uD83D\uDE00""#, #""\uDFAA""#, #""\uD800""#, "\"อ😀\"", "\"\u{7F}\"", #""a\u0041b""#, #""[{,:}]""#,
        #""\u005C""#, #"" spaces ""#,
        // literals (section 3)
        "true", "false", "null",
        // arrays (section 5)
        "[]", "[ ]", "[1]", "[1,2]", "[ 1 , 2 ]", #"["a",{"b":[null]}]"#, "[[],[[]]]", "[true,false,null]", "[-0.5e-3]",
        // objects (section 4): any keys, duplicates allowed by the grammar
        "{}", "{ }", #"{"a":1}"#, #"{"":0}"#, #"{"a":1,"a":2}"#, #"{"\u0061":{}}"#, #"{ "a" : [ ] , "b" : { } }"#,
        #"{"case":"not the case"}"#, #"{"ts":"nested, not read"}"#,
        // whitespace: space, tab, CR (a line cannot hold LF)
        " 1 ", "\t[\t1\t]\t", "\r{\r}\r",
        // nesting up to the limit (64 levels)
        String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
        String(repeating: #"{"a":"#, count: 63) + "1" + String(repeating: "}", count: 63),
    ]

    static let invalid: [String] = [
        // numbers
        "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "1E-", "0x1", "0x", "1.2.3", "--1", "1-", "NaN", "-NaN",
        "Infinity", "-Infinity", "inf", "1_000", "1,5", "0.e1", "2.e3", "1 2", "١", "0.5f", "1e1.5", "-.5", "012",
        // strings
        #""abc"#, #"'a'"#, #""\x41""#, #""\u12""#, #""\uZZZZ""#, #""\u00G0""#, #""\"#, #""\a""#, #""\'""#, "\"\u{01}\"",
        "\"\t\"", "\"\u{1F}\"", #""a"b""#, #"""""#, "abc", #""\u""#, #""\U0041""#,
        // literals
        "tru", "nul", "fals", "True", "NULL", "truee", "nulll", "t", "undefined",
        // arrays
        "[", "]", "[1", "[1,]", "[,1]", "[,]", "[1,,2]", "[1 2]", "[1:2]", "[}", "[1]]", "[[]", "[-]", "[.1]", "[012]",
        "[tru]", "[\"a\",]", "[1,]]", "[\u{0C}]",
        // objects
        "{", "}", "{]", "{,}", #"{"a"}"#, #"{"a":}"#, #"{"a" 1}"#, #"{"a":1,}"#, #"{,"a":1}"#, #"{"a":1 "b":2}"#,
        "{1:2}", "{a:1}", "{'a':1}", #"{"a"::1}"#, #"{"a":1}}"#, #"{"a":[}"#, #"{"a":1;"b":2}"#, "{null:1}", #"{"a" b}"#,
        #"{"a":1,,"b":2}"#, #"{"a":{"b":1}"#,
        // structure: one value only, and nothing else
        "", " ", "1 1", "[] []", "{} {}", "1]", "[1]x", "/* c */ 1", "1 // c", "#1",
        // nesting past the limit
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        String(repeating: "[", count: 60_000),  // under the line limit: bad JSON, not too long
    ]

    /// Lines with the value in an unknown member, at three places; each line a distinct case.
    static func lines(_ values: [String]) -> [String] {
        var out: [String] = []
        for (k, v) in values.enumerated() {
            out.append(#"{"x":"# + v + #","ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"V\#(k)a"}"#)
            out.append(#"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","x":"# + v + #","case":"V\#(k)b"}"#)
            out.append(#"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"V\#(k)c","x":"# + v + "}")
        }
        return out
    }

    @Test func validValuesCountAndInvalidOnesAreBadJSON() throws {
        for values in [Self.valid, Self.invalid] {
            for v in values {
                for line in Self.lines([v]) {
                    var p = FreezeJSONParser()
                    let outcome = parse(&p, line)
                    if values == Self.valid {
                        #expect(outcome != .malformed(.badJSON), "valid \(v.debugDescription) in \(line.prefix(200).debugDescription)")
                    } else {
                        #expect(outcome == .malformed(.badJSON), "invalid \(v.debugDescription) in \(line.prefix(200).debugDescription)")
                    }
                }
            }
        }
    }

    @Test func theWholePathCountsTheSameInEveryMode() throws {
        #expect(Self.valid.count + Self.invalid.count == 166)  // as docs/FORMATS.md says
        let text = (Self.lines(Self.valid) + Self.lines(Self.invalid)).joined(separator: "\n") + "\n"
        for gzip in [false, true] {
            for jobs in [1, 2] {
                let dir = TempDir()
                defer { dir.remove() }
                _ = dir.file("freeze.jsonl" + (gzip ? ".gz" : ""), gzip ? gzipMember(Array(text.utf8)) : Array(text.utf8))
                let config = try pipeline("sources: [{ name: freeze, format: freeze-jsonl, paths: [\"\(dir.path)/freeze.jsonl*\"] }]")
                let r = try BatchRunner(config: config, jobs: jobs, progress: .never).run().report
                #expect(r.input.records == 3 * Self.valid.count, "gzip \(gzip) jobs \(jobs)")
                #expect(r.input.malformedByReason == [.badJSON: 3 * Self.invalid.count], "gzip \(gzip) jobs \(jobs)")
                #expect(r.totals.counters.accountsFrozen == 3 * Self.valid.count)
            }
        }
    }

    /// follow reads the corpus as batch does (its parser, its BOM rule): the same counts.
    @Test func followCountsTheCorpusAsBatchDoes() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let text = (Self.lines(Self.valid) + Self.lines(Self.invalid)).joined(separator: "\n") + "\n"
        _ = dir.file("freeze.jsonl", [0xEF, 0xBB, 0xBF] + Array(text.utf8))
        let f = try Follower(dir: dir.path, sources: """
              - { name: freeze, format: freeze-jsonl, paths: ["\(dir.path)/freeze.jsonl"] }
            """)
        try f.start()
        let deadline = Date().addingTimeInterval(30)
        var input: [String: Any] = [:]
        while Date() < deadline {
            input = (f.document?["input"] as? [String: Any]) ?? [:]
            if input["lines"] as? Int == 3 * (Self.valid.count + Self.invalid.count) { break }
            usleep(50_000)
        }
        #expect(f.stop() == 0)
        #expect(input["records"] as? Int == 3 * Self.valid.count)
        #expect(input["malformed_by_reason"] as? [String: Int] == ["bad_json": 3 * Self.invalid.count])
    }

    @Test func aLineIsOneObjectAndNothingElse() {
        let good = #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C1"}"#
        var p = FreezeJSONParser()
        #expect(parse(&p, good) != .malformed(.badJSON))
        #expect(parse(&p, " \t" + good + " \t") != .malformed(.badJSON))  // whitespace around is JSON
        for bad in [good + "x", good + good, good + ",", "[" + good + "]", good.dropLast() + "", "x" + good,
                    good.replacingOccurrences(of: ",\"case\"", with: " \"case\""), #""just a string""#, "1", "null"] {
            #expect(parse(&p, String(bad)) == .malformed(.badJSON), "\(bad)")
        }
    }
}
