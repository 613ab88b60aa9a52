import Testing
@testable import AOCPipe

@Suite struct AsteriskCDRParserTests {
    static let example = #""","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-0000a1b2","PJSIP/agent017-0000a1b3","Queue","aoc1441,,,,300","2023-11-01 08:15:02","2023-11-01 08:15:31","2023-11-01 08:21:47",405,376,"ANSWERED","DOCUMENTATION","1698801302.4711","""#
    static let startUTC = 1_698_801_302

    var parser = AsteriskCDRParser(hotline: "1441", sourceZone: bangkok)

    /// The hash a call with this id is known by.
    static func key(_ id: String) -> UInt64 {
        var bytes = Array(id.utf8)
        return bytes.withUnsafeMutableBytes { CallKeyHash.of(UnsafeRawBufferPointer($0)) }
    }
    static let exampleKey = key("1698801302.4711")

    @Test mutating func theFormatsExample() {
        #expect(parse(&parser, Self.example) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: true, callKey: Self.exampleKey)))
    }

    @Test mutating func threeLayouts() {
        let sixteen = #""","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/a","PJSIP/b","Queue","aoc1441,,,,300","2023-11-01 08:15:02",,"2023-11-01 08:16:02",60,0,"NO ANSWER","DOCUMENTATION""#
        let eighteen = sixteen + #","1698801302.4711","""#
        let twentyOne = eighteen + #","","1698801300.4700",12"#
        // 16 columns: no id, the line is a call of its own (key 0); 18: uniqueid; 21: linkedid.
        for (line, key) in [(sixteen, 0), (eighteen, Self.exampleKey), (twentyOne, Self.key("1698801300.4700"))] {
            #expect(parse(&parser, line) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: false, callKey: key)))
        }
        #expect(parse(&parser, sixteen + #","x""#) == .malformed(.columnCount))
        #expect(parse(&parser, eighteen + ",") == .malformed(.columnCount))
    }

    @Test mutating func quotingEdgeCases() {
        // Commas and doubled quotes inside clid and lastdata, an unquoted empty answer.
        let line = #""acct","0812345678","1441","aoc-hotline","""A, ""B"""" <081>","PJSIP/x,y","","Dial","PJSIP/a,30,tT""q""","2023-11-01 08:15:02",,"2023-11-01 08:16:02",60,0,"BUSY","DOCUMENTATION","1.2","""#
        #expect(parse(&parser, line) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: false, callKey: Self.key("1.2"))))
        // Bare (unquoted) strings are accepted too: RFC 4180 lets any field go unquoted.
        let bare = #",0812345678,1441,aoc-hotline,Caller,PJSIP/a,PJSIP/b,Queue,x,2023-11-01 08:15:02,2023-11-01 08:15:31,2023-11-01 08:21:47,405,376,ANSWERED,DOCUMENTATION,1.2,"#
        #expect(parse(&parser, bare) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: true, callKey: Self.key("1.2"))))
        // An unterminated quote, or text after a closing quote, is bad quoting.
        #expect(parse(&parser, #""","0812345678","1441","aoc-hotline,"#) == .malformed(.badQuoting))
        #expect(parse(&parser, #""","08"x,"1441""#) == .malformed(.badQuoting))
    }

    @Test mutating func onlyTheHotlineCounts() {
        for other in ["14410", "01441", "1442", "", "144"] {
            let line = Self.example.replacingOccurrences(of: #","1441","aoc"#, with: #",""# + other + #"","aoc"#)
            #expect(parse(&parser, line) == .skipped, "dst \(other)")
        }
        var custom = AsteriskCDRParser(hotline: "1202", sourceZone: bangkok)
        #expect(parse(&custom, Self.example) == .skipped)
    }

    @Test mutating func badTimestampsAreMalformed() {
        for start in ["", "2023-11-01", "2023-13-01 08:15:02", "2023-11-01T08:15:02Z", "yesterday"] {
            let line = Self.example.replacingOccurrences(of: #""2023-11-01 08:15:02""#, with: "\"\(start)\"")
            #expect(parse(&parser, line) == .malformed(.badTimestamp), "start \(start)")
        }
    }

    @Test func sourceZoneAppliesToLocalTimes() {
        // The same wall-clock time written by a server in UTC is seven hours later.
        var utcSource = AsteriskCDRParser(hotline: "1441", sourceZone: .utc)
        #expect(parse(&utcSource, Self.example) == .event(Event(kind: .call, millis: (Self.startUTC + 7 * 3600) * 1000, answered: true,
                                                                  callKey: Self.exampleKey)))
    }

    static func fields(_ line: String, _ changes: [Int: String]) -> String {
        // Fields of a quoted line, changed by index (the example has no comma inside quotes
        // but for clid, which is left alone here).
        var f = line.components(separatedBy: "\",\"")
        for (i, v) in changes { f[i] = v }
        return f.joined(separator: "\",\"")
    }

    @Test func answeredMeansAnAgentWasBridged() {
        // The example's fields by index after splitting on `","`: dst 2, dcontext 3, clid 4,
        // channel 5, dstchannel 6, disposition starts the field after the numbers.
        var bridged = AsteriskCDRParser(rules: CallRules(notAgents: ["Local/"]), sourceZone: bangkok)
        var disposition = AsteriskCDRParser(rules: CallRules(answered: .disposition), sourceZone: bangkok)
        func answered(_ p: inout AsteriskCDRParser, _ line: String) -> Bool? {
            if case .event(let e) = parse(&p, line) { return e.answered }
            return nil
        }
        // ANSWERED with an agent's channel: answered either way.
        #expect(answered(&bridged, Self.example) == true)
        #expect(answered(&disposition, Self.example) == true)
        // ANSWERED with an empty dstchannel (an IVR answered, the caller gave up in the queue).
        let ivr = Self.example.replacingOccurrences(of: #""PJSIP/agent017-0000a1b3""#, with: #""""#)
        #expect(answered(&bridged, ivr) == false)
        #expect(answered(&disposition, ivr) == true)
        // Bridged to a Local channel named as not an agent.
        let local = Self.example.replacingOccurrences(of: "PJSIP/agent017-0000a1b3", with: "Local/1441@queue-0001;1")
        #expect(answered(&bridged, local) == false)
        #expect(answered(&disposition, local) == true)
        // NO ANSWER with an agent's channel: never answered.
        let missed = Self.example.replacingOccurrences(of: #""ANSWERED""#, with: #""NO ANSWER""#)
        #expect(answered(&bridged, missed) == false)
        #expect(answered(&disposition, missed) == false)
    }

    @Test func hotlineSetContextsAndTrunks() {
        var rules = CallRules(hotline: ["1441", "021441"], contexts: ["aoc-hotline"], trunks: ["PJSIP/trunk-"])
        var p = AsteriskCDRParser(rules: rules, sourceZone: bangkok)
        func counted(_ p: inout AsteriskCDRParser, _ line: String) -> Bool {
            if case .event = parse(&p, line) { return true }
            return false
        }
        #expect(counted(&p, Self.example))
        #expect(counted(&p, Self.example.replacingOccurrences(of: #","1441","aoc"#, with: #","021441","aoc"#)))
        #expect(!counted(&p, Self.example.replacingOccurrences(of: #","1441","aoc"#, with: #","1442","aoc"#)))
        // Another context, or a channel that is not one of the trunks: not the hotline's.
        #expect(!counted(&p, Self.example.replacingOccurrences(of: "aoc-hotline", with: "internal")))
        #expect(!counted(&p, Self.example.replacingOccurrences(of: "PJSIP/trunk-0000a1b2", with: "PJSIP/agent5-0000a1b2")))
        // Without contexts or trunks, any context and channel do.
        rules.contexts = []
        rules.trunks = []
        p = AsteriskCDRParser(rules: rules, sourceZone: bangkok)
        #expect(counted(&p, Self.example.replacingOccurrences(of: "aoc-hotline", with: "internal")))
    }

    @Test func callKeyChoice() {
        let twentyOne = Self.example + #","","1698801300.4700",3"#
        func key(_ k: CallRules.Key, _ line: String) -> UInt64? {
            var p = AsteriskCDRParser(rules: CallRules(key: k), sourceZone: bangkok)
            if case .event(let e) = parse(&p, line) { return e.callKey }
            return nil
        }
        #expect(key(.linkedid, twentyOne) == Self.key("1698801300.4700"))
        #expect(key(.uniqueid, twentyOne) == Self.exampleKey)
        #expect(key(.line, twentyOne) == 0)
        // linkedid asked for, 18 columns: uniqueid; an empty linkedid: uniqueid too.
        #expect(key(.linkedid, Self.example) == Self.exampleKey)
        #expect(key(.linkedid, Self.example + #","","",3"#) == Self.exampleKey)
        // An empty uniqueid: no key.
        #expect(key(.uniqueid, Self.example.replacingOccurrences(of: "1698801302.4711", with: "")) == 0)
    }

    @Test mutating func aFileStartsAtItsFirstWellFormedLineCountedOrNot() {
        // A file's place in its source's stream (follow reads a source's files in that order).
        let other = Self.example.replacingOccurrences(of: #","1441","aoc"#, with: #","2001","aoc"#)
        #expect(parse(&parser, other) == .skipped)
        var any = parser.anyRecord
        guard case .event(let e) = parse(&any, other) else { Issue.record("not an event"); return }
        #expect(e.millis == Self.startUTC * 1000)
        #expect(firstRecordMillis(in: Array(("bad line\n" + other + "\n" + Self.example).utf8), parser: parser) == Self.startUTC * 1000)
        // Only whole lines: a line cut where the prefix ends does not count.
        #expect(firstRecordMillis(in: Array(other.utf8), parser: parser) == nil)
    }

    @Test func keyHashIsStableAndSpreads() {
        // Pinned: checkpoints hold these hashes, so they must not change between versions.
        #expect(Self.key("1698801302.4711") == 16_398_174_523_319_625_377)
        #expect(Self.key("1698801302.4711") != Self.key("1698801302.4712"))
        var seen = Set<UInt64>()
        for server in ["", "pbx1-", "pbx2-"] {
            for n in 0..<20_000 { seen.insert(Self.key("\(server)1698801302.\(n)")) }
        }
        #expect(seen.count == 60_000)
        #expect(!seen.contains(0))
        // Every length up to 40 bytes hashes (the word-at-a-time tail).
        let long = String(repeating: "7", count: 40)
        var lengths = Set<UInt64>()
        for n in 0...40 { lengths.insert(Self.key(String(long.prefix(n)))) }
        #expect(lengths.count == 41)
    }
}
