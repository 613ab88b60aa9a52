import Testing
@testable import AOCPipe

@Suite struct FreezeJSONParserTests {
    static let t = 1_698_802_065_000  // 2023-11-01T08:27:45+07:00

    func frozen(_ caseID: String, _ millis: Int = t) -> ParseOutcome {
        .event(Event(kind: .frozen, millis: millis, caseKey: CaseKey(caseID)))
    }

    @Test func anyFieldOrder() {
        var p = FreezeJSONParser()
        let lines = [
            #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"AOC-1","bank":"KTB","account":"xxx-x-x4821-x"}"#,
            #"{"case":"AOC-1","event":"frozen","ts":"2023-11-01T08:27:45+07:00"}"#,
            #"  { "event" : "frozen" , "case" : "AOC-1" , "ts" : "2023-11-01T01:27:45Z" }  "#,
        ]
        for line in lines { #expect(parse(&p, line) == frozen("AOC-1"), "\(line)") }
    }

    @Test func unknownFieldsOfAnyType() {
        var p = FreezeJSONParser()
        let line = #"{"x":{"a":[1,2,{"b":"}"}],"c":null},"ts":"2023-11-01T08:27:45.5+07:00","n":-1.5e3,"t":true,"f":false,"event":"frozen","arr":[],"obj":{},"case":"AOC-1","s":"\"}"}"#
        #expect(parse(&p, line) == frozen("AOC-1", Self.t + 500))
    }

    @Test func anUnknownMembersValueMustBeJSON() {
        // RFC 8259's grammar, member values nobody reads included: a line that is not JSON is
        // bad_json, whatever it holds (cases from public JSON test suites' must-reject lists).
        let valid = ["1", "-0.5e+3", "0", "1E-2", "\"x\"", "true", "false", "null", "[]", "{}", " [ 1 , 2 ] ",
                     #"[1,"a",{"b":[null,[]]}]"#, #"{"a":{"b":1},"c":[],"d":{}}"#, #"[[[[]]]]"#, "-0"]
        let invalid = ["[1,]", "{]", "[tru]", "[012]", "[0x1]", #"{"a" b}"#, "01", "1.", ".5", "-", "+1", "[1 2]",
                       #"{"a":1,}"#, "{,}", "[,1]", #"{"a"}"#, "{1:2}", "nul", "True", "1e", "[", #"{"a":[}"#,
                       "[1]]", "1x", "--1", "[1,,2]", #"{"a":1 "b":2}"#, "NaN", "Infinity", "[-]", "0.e1", "[.1]",
                       String(repeating: "[", count: 65) + String(repeating: "]", count: 65)]
        for v in valid + invalid {
            var p = FreezeJSONParser()
            // The unknown member first, in the middle, and last.
            for line in [#"{"x":"# + v + #","ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"AOC-1"}"#,
                         #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","x":"# + v + #","case":"AOC-1"}"#,
                         #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"AOC-1","x":"# + v + "}"] {
                #expect(parse(&p, line) == (valid.contains(v) ? frozen("AOC-1") : .malformed(.badJSON)), "\(line)")
            }
        }
        // Sixty-four levels of nesting are JSON too.
        var p = FreezeJSONParser()
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"AOC-1","x":"# + deep + "}") == frozen("AOC-1"))
    }

    @Test func escapesInValuesAndKeys() {
        var p = FreezeJSONParser()
        // "\u0041OC" is "AOC"; a key may be escaped too ("c\u0061se" is "case").
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","c\u0061se":"\u0041OC-1"}"#) == frozen("AOC-1"))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"fro\u007aen","case":"A\"B\\C\/D"}"#) == frozen(#"A"B\C/D"#))
        // Thai text and a surrogate pair decode to their UTF-8 bytes.
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"\u0e2d\ud83d\ude00"}"#) == frozen("อ😀"))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"อ😀"}"#) == frozen("อ😀"))
    }

    @Test func allEventKinds() {
        var p = FreezeJSONParser()
        let kinds: [(String, Event.Kind)] = [("reported", .reported), ("freeze_requested", .freezeRequested),
                                             ("frozen", .frozen), ("freeze_failed", .freezeFailed)]
        for (name, kind) in kinds {
            #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":""# + name + #"","case":"C"}"#)
                == .event(Event(kind: kind, millis: Self.t, caseKey: CaseKey("C"))))
        }
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"thawed","case":"C"}"#) == .malformed(.unknownEvent))
    }

    @Test func malformedLines() {
        var p = FreezeJSONParser()
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen"}"#) == .malformed(.missingField))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":""}"#) == .malformed(.missingField))
        #expect(parse(&p, #"{"ts":"2023-11-01 08:27","event":"frozen","case":"C"}"#) == .malformed(.badTimestamp))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C""#) == .malformed(.badJSON))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C"} x"#) == .malformed(.badJSON))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C\q"}"#) == .malformed(.badJSON))
        #expect(parse(&p, #"["ts"]"#) == .malformed(.badJSON))
        #expect(parse(&p, "not json") == .malformed(.badJSON))
        #expect(parse(&p, "{}") == .malformed(.missingField))
        #expect(parse(&p, #"{"a":}"#) == .malformed(.badJSON))
    }

    @Test func theWritersOwnLayoutIsJudgedLikeAnyOther() {
        // Lines that start as the case system writes them take a shortcut; whatever follows
        // must still be judged as JSON, with the same rules as any other layout.
        var p = FreezeJSONParser()
        let head = #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C""#
        #expect(parse(&p, head + "}") == frozen("C"))
        // The writer's other members (`call`, `bank`, `account`) are matched a word at a time.
        #expect(parse(&p, head + #","call":"1698801302.4711"}"#) == frozen("C"))
        #expect(parse(&p, head + #","bank":"KTB","account":"xxx-x-x4821-x"}"#) == frozen("C"))
        #expect(parse(&p, head + #","bank":"KTB","account":"x","case":"D"}"#) == frozen("D"))
        #expect(parse(&p, head + #","call":1698801302,"bank":null,"account":{"a":[1]}}"#) == frozen("C"))
        #expect(parse(&p, head + #","call":"a\"b\\c","accounts":"x","accoun":"y"}"#) == frozen("C"))
        #expect(parse(&p, head + #","account":"x"#) == .malformed(.badJSON))
        #expect(parse(&p, head + #","call":"x"},"#) == .malformed(.badJSON))
        #expect(parse(&p, head + #","bank":"x\#u{01}"}"#) == .malformed(.badJSON))
        #expect(parse(&p, head + #","call""#) == .malformed(.badJSON))
        #expect(parse(&p, head + #" , "bank" : "KTB" }"#) == frozen("C"))
        #expect(parse(&p, head + #","case":"D"}"#) == frozen("D"))                      // last value wins
        #expect(parse(&p, head + #","ts":"2023-11-01T01:27:46Z"}"#) == frozen("C", Self.t + 1000))
        #expect(parse(&p, head + #","x":}"#) == .malformed(.badJSON))
        #expect(parse(&p, head + #","x""#) == .malformed(.badJSON))
        #expect(parse(&p, head) == .malformed(.badJSON))                                // no closing brace
        #expect(parse(&p, head + "}}") == .malformed(.badJSON))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C"#) == .malformed(.badJSON))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C\#u{01}"}"#) == .malformed(.badJSON))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","cases":"C"}"#) == .malformed(.missingField))
        #expect(parse(&p, #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":1}"#) == .malformed(.missingField))
    }

    @Test func eventNamesInTheWritersLayoutAreMatchedExactly() {
        // The writer's layout matches names a word at a time; near misses are unknown events,
        // escaped names still count.
        var p = FreezeJSONParser()
        func line(_ name: String) -> String { #"{"ts":"2023-11-01T08:27:45+07:00","event":""# + name + #"","case":"C","x":1}"# }
        let known: [(String, Event.Kind)] = [("reported", .reported), ("freeze_requested", .freezeRequested),
                                             ("frozen", .frozen), ("freeze_failed", .freezeFailed),
                                             (#"fro\u007aen"#, .frozen), (#"reporte\u0064"#, .reported)]
        for (name, kind) in known {
            #expect(parse(&p, line(name)) == .event(Event(kind: kind, millis: Self.t, caseKey: CaseKey("C"))), "\(name)")
        }
        for name in ["frozenx", "froze", "Frozen", "reportedx", "reporte", "freeze_requeste", "freeze_requestedx",
                     "freeze_faile", "freeze_failedx", "freeze_", ""] {
            #expect(parse(&p, line(name)) == .malformed(.unknownEvent), "\(name)")
        }
        // Cut short anywhere in the name or after it: broken JSON, never a read past the line.
        let full = line("freeze_requested")
        for end in 40..<60 {
            #expect(parse(&p, String(full.prefix(end))) == .malformed(.badJSON), "\(end)")
        }
    }

    @Test func timesAcrossDatesOneParserAfterAnother() {
        // One parser keeps the last date it parsed: going back and forth between dates, and
        // through invalid ones, must give each line its own time.
        var p = FreezeJSONParser()
        let dates: [(String, Int?)] = [
            ("2023-11-01T08:27:45+07:00", Self.t), ("2023-11-02T08:27:45+07:00", Self.t + 86_400_000),
            ("2023-11-01T08:27:45+07:00", Self.t), ("2023-02-29T08:27:45+07:00", nil),
            ("2023-11-01T08:27:4x+07:00", nil), ("2023-11-01T24:27:45+07:00", nil), ("2023-11-01T08:60:45+07:00", nil),
            ("2023-11-01T08:27:61+07:00", nil), ("2023-11-01T08-27:45+07:00", nil), ("2023-11-01T08:27:45+07:00", Self.t),
            ("2024-02-29T08:27:45+07:00", Self.t + 120 * 86_400_000), ("2023-11-01t01:27:45.25Z", Self.t + 250),
            ("2023-11-01 01:27:45Z", Self.t), ("2023-11-01X01:27:45Z", nil), ("2023-11-01T01:27:45", nil),
        ]
        for (ts, millis) in dates {
            let outcome = parse(&p, #"{"ts":""# + ts + #"","event":"frozen","case":"C"}"#)
            #expect(outcome == (millis.map { frozen("C", $0) } ?? .malformed(.badTimestamp)), "\(ts)")
        }
    }

    @Test func caseIDsOfEveryLengthAreHeldByteForByte() {
        // Ids are loaded a word at a time; the words must hold exactly the id's bytes, in
        // order, zero after them, whatever follows the id in the line.
        let text = Array("AOC-20231101-000001-กขค-0123456789abcdef".utf8)
        for n in 0...32 {
            var expected: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &expected) { for k in 0..<n { $0[k] = text[k] } }
            let key = text.withUnsafeBytes { CaseKey(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            #expect(key == CaseKey(words: expected, length: UInt32(n)), "length \(n)")
            #expect(key.isEmpty == (n == 0))
        }
    }

    @Test func longCaseIDsStayDistinct() {
        let a = String(repeating: "A", count: 40) + "1"
        let b = String(repeating: "A", count: 40) + "2"
        #expect(CaseKey(a) != CaseKey(b))
        #expect(CaseKey(a) == CaseKey(a))
        #expect(CaseKey("AOC-1") != CaseKey("AOC-10"))
    }
}
