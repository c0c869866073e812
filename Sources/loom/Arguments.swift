// A small command-line parser: `--name value` or `--name=value` options and positional
// words, with errors that name the flag. No dependencies.

/// A problem with the command line: an unknown command or option, a missing or malformed
/// value. The message names the flag; `main` prints it and exits with code 2.
struct ArgumentError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The options of one command, parsed and checked against the names it accepts.
struct ParsedArguments {
    /// The words that are not options (e.g. the task of `loom train tagger`).
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    /// Boolean switches given (e.g. `--help`).
    private var switches: Set<String> = []
    /// The command, for error messages (`loom train`).
    let command: String

    /// Parses `arguments` for `command`, which accepts the options `valueOptions` (each
    /// followed by a value) and `switchOptions` (no value). Throws `ArgumentError` for an
    /// unknown option, an option given twice, or an option without its value.
    init(_ arguments: [String], command: String, valueOptions: Set<String>, switchOptions: Set<String> = ["--help", "-h"]) throws {
        self.command = command
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument != "-" else {
                positionals.append(argument)
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if switchOptions.contains(name) {
                guard inlineValue == nil else { throw ArgumentError("\(name) takes no value (`\(command)`)") }
                switches.insert(name)
                continue
            }
            guard valueOptions.contains(name) else {
                let known = valueOptions.union(switchOptions.filter { $0.hasPrefix("--") }).sorted().joined(separator: " ")
                throw ArgumentError("unknown option \(name) for `\(command)` (it accepts: \(known))")
            }
            guard values[name] == nil else { throw ArgumentError("\(name) is given twice") }
            if let inlineValue {
                values[name] = inlineValue
            } else {
                guard index < arguments.count else { throw ArgumentError("\(name) needs a value") }
                values[name] = arguments[index]
                index += 1
            }
        }
    }

    /// Whether the switch `name` was given.
    func has(_ name: String) -> Bool { switches.contains(name) }

    /// Whether the option `name` was given a value.
    func contains(_ name: String) -> Bool { values[name] != nil }

    /// The text of option `name`, or nil; an empty value is an error.
    func string(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        guard !value.isEmpty else { throw ArgumentError("\(name) needs a non-empty value") }
        return value
    }

    /// The text of option `name`, which may be empty (e.g. `--prime ""`).
    func rawString(_ name: String) -> String? { values[name] }

    /// The whole number given to `name`, at least `minimum`, or nil when absent.
    func int(_ name: String, minimum: Int, maximum: Int = Int.max) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text.trimmingSpaces) else {
            throw ArgumentError("\(name) expects a whole number, got \"\(text)\"")
        }
        guard value >= minimum else { throw ArgumentError("\(name) must be at least \(minimum), got \(value)") }
        guard value <= maximum else { throw ArgumentError("\(name) must be at most \(maximum), got \(value)") }
        return value
    }

    /// The seed given to `name` (a non-negative whole number up to 2⁶⁴ − 1), or nil.
    func seed(_ name: String) throws -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let value = UInt64(text.trimmingSpaces) else {
            throw ArgumentError("\(name) expects a non-negative whole number, got \"\(text)\"")
        }
        return value
    }

    /// The positive finite number given to `name`, or nil when absent.
    func positiveDouble(_ name: String) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text.trimmingSpaces), value.isFinite else {
            throw ArgumentError("\(name) expects a number, got \"\(text)\"")
        }
        guard value > 0 else { throw ArgumentError("\(name) must be positive, got \(text)") }
        return value
    }

    /// Throws unless at most `count` positional words were given.
    func expectPositionals(atMost count: Int) throws {
        if positionals.count > count {
            throw ArgumentError("unexpected argument \"\(positionals[count])\" for `\(command)`")
        }
    }
}

extension String {
    /// The string without leading and trailing spaces.
    var trimmingSpaces: Substring {
        var text = self[...]
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
