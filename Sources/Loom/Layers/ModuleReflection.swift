@_spi(Reflection) import Swift
import Synchronization

extension Module {
    /// The default traversal, by reflection over the module's stored properties, in
    /// declaration order, each named by its property name:
    ///
    /// - a `Tensor<Scalar>` or `Tensor<Scalar>?` property is a parameter;
    /// - a property whose type is a `Module` (or an optional one) is a sub-module, and an
    ///   array of modules is named `name.0`, `name.1`, ... as `ModuleList` names them;
    /// - a `Bool` property named `training` is the module's train/eval flag.
    ///
    /// Other properties are ignored. A model struct needs no `visit` of its own; write one
    /// (listing every parameter and sub-module) only to choose other names or to skip
    /// reflection's small cost.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        ModuleReflection.visit(&self, visitor)
    }

    /// Leaf tensors that require a gradient and are stored somewhere inside this module (found
    /// by reflection, through structs, arrays and optionals) but are not among the parameters
    /// its `visit` reports: the optimizer would never update them and `zeroGrad()` would never
    /// clear them. Each is named by its property path. Empty for a correct `visit`.
    public func unregisteredParameters() -> [String] {
        var visited = Set<Int>()
        for (_, tensor) in namedParameters() {
            if let sequence = tensor.leafSequence { visited.insert(sequence) }
        }
        var found: [String] = []
        ModuleReflection.collectLeaves(of: self, path: "", into: &found) { !visited.contains($0) }
        return found
    }
}

/// Reflection over module structs: stored properties as writable key paths, found once per
/// type and cached.
enum ModuleReflection {
    /// A stored property: its name and key path from the module's type.
    struct Field: @unchecked Sendable {
        var name: String
        var keyPath: AnyKeyPath
    }

    private static let cache = Mutex<[ObjectIdentifier: [Field]]>([:])

    /// The stored properties of `type`, in declaration order.
    static func fields<M>(of type: M.Type) -> [Field] {
        if let cached = cache.withLock({ $0[ObjectIdentifier(type)] }) { return cached }
        var fields: [Field] = []
        _ = _forEachFieldWithKeyPath(of: type) { name, keyPath in
            fields.append(Field(name: String(cString: name), keyPath: keyPath))
            return true
        }
        cache.withLock { $0[ObjectIdentifier(type)] = fields }
        return fields
    }

    /// Hands every parameter, sub-module and training flag of `module` to `visitor`.
    static func visit<M: Module>(_ module: inout M, _ visitor: ModuleVisitor<M.Scalar>) {
        for field in fields(of: M.self) {
            if let path = field.keyPath as? WritableKeyPath<M, Tensor<M.Scalar>> {
                visitor.parameter(field.name, &module[keyPath: path])
            } else if let path = field.keyPath as? WritableKeyPath<M, Tensor<M.Scalar>?> {
                visitor.parameter(field.name, &module[keyPath: path])
            } else if field.name == "training", let path = field.keyPath as? WritableKeyPath<M, Bool> {
                visitor.trainingFlag(&module[keyPath: path])
            } else if let child = type(of: field.keyPath).valueType as? any Module.Type {
                visitChild(child, in: &module, keyPath: field.keyPath, name: field.name, visitor)
            } else if let child = type(of: field.keyPath).valueType as? any ModuleContainer.Type {
                child.visitContained(in: &module, keyPath: field.keyPath, name: field.name, visitor)
            }
        }
    }

    /// Descends into the sub-module of type `Child` at `keyPath`.
    static func visitChild<Root: Module, Child: Module>(_: Child.Type, in root: inout Root, keyPath: AnyKeyPath, name: String,
                                                        _ visitor: ModuleVisitor<Root.Scalar>) {
        guard let path = keyPath as? WritableKeyPath<Root, Child>,
              let typedVisitor = visitor as? ModuleVisitor<Child.Scalar> else { return }
        typedVisitor.module(name, &root[keyPath: path])
    }

    /// Appends the path of every leaf tensor requiring a gradient inside `value` for which
    /// `include(sequence)` holds.
    static func collectLeaves(of value: Any, path: String, into found: inout [String], include: (Int) -> Bool) {
        if let tensor = value as? any LeafIdentifiable {
            if let sequence = tensor.leafSequenceForReflection, include(sequence) { found.append(path) }
            return
        }
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .struct || mirror.displayStyle == .collection || mirror.displayStyle == .optional
                || mirror.displayStyle == .tuple else { return }
        for (index, child) in mirror.children.enumerated() {
            let name = mirror.displayStyle == .optional ? "" : (child.label ?? String(index))
            let childPath = name.isEmpty ? path : (path.isEmpty ? name : "\(path).\(name)")
            collectLeaves(of: child.value, path: childPath, into: &found, include: include)
        }
    }
}

/// A type that holds sub-modules the reflective `visit` descends into: an optional module or
/// an array of modules.
protocol ModuleContainer {
    /// Visits the value at `keyPath` of `root` (whose type is `Self`) under `name`.
    static func visitContained<Root: Module>(in root: inout Root, keyPath: AnyKeyPath, name: String,
                                             _ visitor: ModuleVisitor<Root.Scalar>)
}

extension Array: ModuleContainer where Element: Module {
    static func visitContained<Root: Module>(in root: inout Root, keyPath: AnyKeyPath, name: String,
                                             _ visitor: ModuleVisitor<Root.Scalar>) {
        guard let path = keyPath as? WritableKeyPath<Root, [Element]>,
              let typedVisitor = visitor as? ModuleVisitor<Element.Scalar> else { return }
        typedVisitor.modules(name, &root[keyPath: path])
    }
}

extension Optional: ModuleContainer where Wrapped: Module {
    static func visitContained<Root: Module>(in root: inout Root, keyPath: AnyKeyPath, name: String,
                                             _ visitor: ModuleVisitor<Root.Scalar>) {
        guard let path = keyPath as? WritableKeyPath<Root, Wrapped?>,
              let typedVisitor = visitor as? ModuleVisitor<Wrapped.Scalar>,
              var child = root[keyPath: path] else { return }
        typedVisitor.module(name, &child)
        root[keyPath: path] = child
    }
}

/// A tensor seen through `Any` during reflection.
protocol LeafIdentifiable {
    var leafSequenceForReflection: Int? { get }
}

extension Tensor: LeafIdentifiable {
    var leafSequenceForReflection: Int? { leafSequence }
}
