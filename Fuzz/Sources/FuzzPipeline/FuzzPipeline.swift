import AOCPipe
import Glibc

/// Where the target writes the input when a stage needs a file (one per process).
let scratch = "/tmp/aocpipe-fuzz-pipeline-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzEntries.run(.pipeline, Array(UnsafeBufferPointer(start: data, count: size)), scratch: scratch)
    return 0
}
