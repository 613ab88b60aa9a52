import Testing
@testable import AOCPipe

@Suite struct AsteriskCDRParserTests {
    static let example = #""","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-0000a1b2","PJSIP/agent017-0000a1b3","Queue","aoc1441,,,,300","2023-11-01 08:15:02","2023-11-01 08:15:31","2023-11-01 08:21:47",405,376,"ANSWERED","DOCUMENTATION","1698801302.4711","""#
    static let startUTC = 1_698_801_302

    var parser = AsteriskCDRParser(hotline: "1441", sourceZone: bangkok)

    @Test mutating func theFormatsExample() {
        #expect(parse(&parser, Self.example) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: true)))
    }

    @Test mutating func threeLayouts() {
        let sixteen = #""","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/a","PJSIP/b","Queue","aoc1441,,,,300","2023-11-01 08:15:02",,"2023-11-01 08:16:02",60,0,"NO ANSWER","DOCUMENTATION""#
        let eighteen = sixteen + #","1698801302.4711","""#
        let twentyOne = eighteen + #","","1698801302.4711",12"#
        for line in [sixteen, eighteen, twentyOne] {
            #expect(parse(&parser, line) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: false)))
        }
        #expect(parse(&parser, sixteen + #","x""#) == .malformed(.columnCount))
        #expect(parse(&parser, eighteen + ",") == .malformed(.columnCount))
    }

    @Test mutating func quotingEdgeCases() {
        // Commas and doubled quotes inside clid and lastdata, an unquoted empty answer.
        let line = #""acct","0812345678","1441","aoc-hotline","""A, ""B"""" <081>","PJSIP/x,y","","Dial","PJSIP/a,30,tT""q""","2023-11-01 08:15:02",,"2023-11-01 08:16:02",60,0,"BUSY","DOCUMENTATION","1.2","""#
        #expect(parse(&parser, line) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: false)))
        // Bare (unquoted) strings are accepted too: RFC 4180 lets any field go unquoted.
        let bare = #",0812345678,1441,aoc-hotline,Caller,PJSIP/a,PJSIP/b,Queue,x,2023-11-01 08:15:02,2023-11-01 08:15:31,2023-11-01 08:21:47,405,376,ANSWERED,DOCUMENTATION,1.2,"#
        #expect(parse(&parser, bare) == .event(Event(kind: .call, millis: Self.startUTC * 1000, answered: true)))
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
        #expect(parse(&utcSource, Self.example) == .event(Event(kind: .call, millis: (Self.startUTC + 7 * 3600) * 1000, answered: true)))
    }
}
