import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to `url` so that `url` always holds either its previous contents or all of
/// `data`, never a mix: the bytes go to a new temporary file beside `url` (same directory, so
/// the same file system), are flushed to disk, and the temporary file is renamed over `url`.
/// On any failure the temporary file is removed and a `CheckpointError` naming `url` is thrown.
///
/// `beforeRename` runs after the temporary file is complete and before the rename; tests use
/// it to simulate a failure at the last moment.
func writeFileAtomically(_ data: Data, to url: URL,
                         beforeRename: () throws -> Void = {}) throws(CheckpointError) {
    let target = url.path
    func fail(_ reason: String) -> CheckpointError { CheckpointError(file: target, reason: reason) }
    func systemError(_ what: String) -> CheckpointError {
        fail("\(what): \(String(cString: strerror(errno)))")
    }

    let directory = url.deletingLastPathComponent().path
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw systemError("cannot create a temporary file in \(directory)") }

    var completed = false
    defer {
        if !completed { unlink(temporary) }
    }
    do {
        defer { close(descriptor) }
        let written: Int? = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = posixWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return nil
                }
                offset += result
            }
            return offset
        }
        guard written != nil else { throw systemError("cannot write the temporary file \(temporary)") }
        guard fsync(descriptor) == 0 else { throw systemError("cannot flush the temporary file \(temporary) to disk") }
    }
    do {
        try beforeRename()
    } catch {
        throw fail("write interrupted before replacing the file: \(error)")
    }
    guard rename(temporary, target) == 0 else { throw systemError("cannot move the temporary file into place") }
    completed = true
    // Make the rename itself durable; failing to flush the directory loses nothing already written.
    let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
    if directoryDescriptor >= 0 {
        _ = fsync(directoryDescriptor)
        close(directoryDescriptor)
    }
}

/// POSIX `write`, named apart from the many Swift `write` methods.
@inline(__always)
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    Musl.write(descriptor, buffer, count)
    #else
    Darwin.write(descriptor, buffer, count)
    #endif
}
