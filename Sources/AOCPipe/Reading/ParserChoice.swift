/// Work done with a source's line parser, whatever its concrete type (so that the hot path
/// is specialised for each format): the one place a format picks its parser is
/// `PipelineConfig.Source.withParser`.
public protocol ParserUser {
    associatedtype Result
    associatedtype Failure: Error
    func use<P: LineParser>(_ parser: P) throws(Failure) -> Result
}

extension PipelineConfig.Source {
    /// The parser this source's format calls for.
    public func withParser<U: ParserUser>(_ user: U) throws(U.Failure) -> U.Result {
        switch format {
        case .asteriskCDR: return try user.use(AsteriskCDRParser(rules: calls, sourceZone: zone))
        case .freezeJSONL: return try user.use(FreezeJSONParser())
        }
    }
}
