import Foundation

/// The data of a learning curve: training loss over steps (or epochs) and a validation
/// metric per epoch.
public struct LearningCurve: Equatable, Sendable {
    /// The chart title (for example `"tagger on en_ewt-ud-train.conllu"`).
    public var title: String
    /// Training loss points (x = step or epoch, y = loss).
    public var trainingLoss: [(x: Double, y: Double)]
    /// The label of the training loss' x axis (`"step"` or `"epoch"`).
    public var trainingXLabel: String
    /// The name of the training loss (`"training loss"`).
    public var trainingLossName: String
    /// Validation points (x = epoch, y = metric).
    public var validation: [(x: Double, y: Double)]
    /// The name of the validation metric (`"dev accuracy"`, `"dev loss (nats/char)"`).
    public var validationName: String

    /// A learning curve; add points with `addTrainingLoss` and `addValidation`.
    public init(title: String, trainingXLabel: String = "step", trainingLossName: String = "training loss",
                validationName: String = "validation metric",
                trainingLoss: [(x: Double, y: Double)] = [], validation: [(x: Double, y: Double)] = []) {
        self.title = title
        self.trainingXLabel = trainingXLabel
        self.trainingLossName = trainingLossName
        self.validationName = validationName
        self.trainingLoss = trainingLoss
        self.validation = validation
    }

    /// Appends a training loss point.
    public mutating func addTrainingLoss(x: Double, loss: Double) { trainingLoss.append((x, loss)) }

    /// Appends a validation point (one per epoch).
    public mutating func addValidation(epoch: Double, value: Double) { validation.append((epoch, value)) }

    /// Whether two curves have the same title, names and points.
    public static func == (a: LearningCurve, b: LearningCurve) -> Bool {
        a.title == b.title && a.trainingXLabel == b.trainingXLabel && a.trainingLossName == b.trainingLossName
            && a.validationName == b.validationName
            && a.trainingLoss.elementsEqual(b.trainingLoss, by: { $0.x == $1.x && $0.y == $1.y })
            && a.validation.elementsEqual(b.validation, by: { $0.x == $1.x && $0.y == $1.y })
    }
}

/// Draws a `LearningCurve` as a standalone SVG file a browser can open: two panels (the
/// training loss on top, the validation metric per epoch below), each with axes, tick
/// labels, axis titles and a legend, under the chart's title. Non-finite points are left
/// out; an empty series shows "no data". No dependencies: the SVG is built as a string.
public enum LearningCurvePlot {
    static let width = 760.0
    static let height = 600.0
    static let left = 80.0
    static let right = 30.0

    /// The SVG document for `curve`.
    public static func svg(_ curve: LearningCurve) -> String {
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" viewBox="0 0 \(format(width)) \(format(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect x="0" y="0" width="\(format(width))" height="\(format(height))" fill="white"/>
        <text x="\(format(width / 2))" y="28" text-anchor="middle" font-size="16" font-weight="bold">\(escape(curve.title))</text>

        """
        out += panel(points: curve.trainingLoss, top: 50, bottom: 290, xLabel: curve.trainingXLabel,
                     yLabel: curve.trainingLossName, color: "#1f77b4", markers: curve.trainingLoss.count <= 60)
        out += panel(points: curve.validation, top: 350, bottom: 550, xLabel: "epoch",
                     yLabel: curve.validationName, color: "#d62728", markers: true)
        out += "</svg>\n"
        return out
    }

    /// Writes the SVG of `curve` to `path`: first to a temporary file in the same folder,
    /// then renamed over `path`, so a reader never sees a half-written file. Throws
    /// `DataError` naming the path when it cannot be written.
    public static func write(_ curve: LearningCurve, to path: String) throws {
        let data = Data(svg(curve).utf8)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw DataError(file: path, message: "cannot write the plot: \(error.localizedDescription)")
        }
        if Foundation.rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(file: path, message: "cannot write the plot: \(reason)")
        }
    }

    /// One panel: frame, grid, ticks, axis titles, the polyline and a legend.
    static func panel(points: [(x: Double, y: Double)], top: Double, bottom: Double, xLabel: String,
                      yLabel: String, color: String, markers: Bool) -> String {
        let plotLeft = left, plotRight = width - right
        var out = "<g class=\"panel\">\n"
        out += "<rect x=\"\(format(plotLeft))\" y=\"\(format(top))\" width=\"\(format(plotRight - plotLeft))\" height=\"\(format(bottom - top))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(format((plotLeft + plotRight) / 2))\" y=\"\(format(bottom + 36))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        let middle = (top + bottom) / 2
        out += "<text x=\"18\" y=\"\(format(middle))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(format(middle)))\">\(escape(yLabel))</text>\n"
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard let first = finite.first else {
            out += "<text x=\"\(format((plotLeft + plotRight) / 2))\" y=\"\(format(middle))\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n</g>\n"
            return out
        }
        var xRange = (finite.map(\.x).min() ?? first.x, finite.map(\.x).max() ?? first.x)
        var yRange = (finite.map(\.y).min() ?? first.y, finite.map(\.y).max() ?? first.y)
        if xRange.1 - xRange.0 <= 0 { xRange = (xRange.0 - 1, xRange.1 + 1) }
        if yRange.1 - yRange.0 <= 0 {
            let pad = max(abs(yRange.0) * 0.1, 1e-3)
            yRange = (yRange.0 - pad, yRange.1 + pad)
        }
        let xTicks = niceTicks(xRange.0, xRange.1)
        let yTicks = niceTicks(yRange.0, yRange.1)
        let xLow = min(xTicks.first ?? xRange.0, xRange.0), xHigh = max(xTicks.last ?? xRange.1, xRange.1)
        let yLow = min(yTicks.first ?? yRange.0, yRange.0), yHigh = max(yTicks.last ?? yRange.1, yRange.1)
        func px(_ x: Double) -> Double { plotLeft + (x - xLow) / (xHigh - xLow) * (plotRight - plotLeft) }
        func py(_ y: Double) -> Double { bottom - (y - yLow) / (yHigh - yLow) * (bottom - top) }

        for tick in xTicks {
            let x = px(tick)
            out += "<line x1=\"\(format(x))\" y1=\"\(format(top))\" x2=\"\(format(x))\" y2=\"\(format(bottom))\" stroke=\"#e5e5e5\"/>\n"
            out += "<line x1=\"\(format(x))\" y1=\"\(format(bottom))\" x2=\"\(format(x))\" y2=\"\(format(bottom + 5))\" stroke=\"#333\"/>\n"
            out += "<text class=\"tick\" x=\"\(format(x))\" y=\"\(format(bottom + 18))\" text-anchor=\"middle\">\(tickLabel(tick, ticks: xTicks))</text>\n"
        }
        for tick in yTicks {
            let y = py(tick)
            out += "<line x1=\"\(format(plotLeft))\" y1=\"\(format(y))\" x2=\"\(format(plotRight))\" y2=\"\(format(y))\" stroke=\"#e5e5e5\"/>\n"
            out += "<line x1=\"\(format(plotLeft - 5))\" y1=\"\(format(y))\" x2=\"\(format(plotLeft))\" y2=\"\(format(y))\" stroke=\"#333\"/>\n"
            out += "<text class=\"tick\" x=\"\(format(plotLeft - 8))\" y=\"\(format(y + 4))\" text-anchor=\"end\">\(tickLabel(tick, ticks: yTicks))</text>\n"
        }
        let coordinates = finite.map { "\(format(px($0.x))),\(format(py($0.y)))" }.joined(separator: " ")
        out += "<polyline class=\"series\" points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
        if markers {
            for point in finite {
                out += "<circle cx=\"\(format(px(point.x)))\" cy=\"\(format(py(point.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
        }
        // Legend just above the panel's top-right corner, outside the plotting area so it
        // never hides the curve.
        let legendWidth = 24.0 + 7.0 * Double(yLabel.count) + 16
        let legendX = plotRight - legendWidth
        let legendTop = top - 24
        out += "<g class=\"legend\">\n"
        out += "<rect x=\"\(format(legendX))\" y=\"\(format(legendTop))\" width=\"\(format(legendWidth))\" height=\"20\" fill=\"white\" stroke=\"#999\"/>\n"
        out += "<line x1=\"\(format(legendX + 6))\" y1=\"\(format(legendTop + 10))\" x2=\"\(format(legendX + 26))\" y2=\"\(format(legendTop + 10))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
        out += "<text x=\"\(format(legendX + 32))\" y=\"\(format(legendTop + 14))\">\(escape(yLabel))</text>\n"
        out += "</g>\n</g>\n"
        return out
    }

    /// About five round tick values (1, 2 or 5 times a power of ten) covering low...high.
    static func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let rough = span / Double(count)
        let magnitude = pow(10, floor(log10(rough)))
        let fraction = rough / magnitude
        let step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
        let first = floor(low / step) * step
        var ticks: [Double] = []
        var value = first
        while value <= high + step * 0.5 && ticks.count < 50 {
            ticks.append(value)
            if value >= high { break }
            value = first + Double(ticks.count) * step
        }
        return ticks
    }

    /// A tick value with as many decimals as the tick spacing needs.
    static func tickLabel(_ value: Double, ticks: [Double]) -> String {
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : max(abs(value), 1)
        let decimals = max(0, min(6, Int(-floor(log10(step)))))
        let shown = abs(value) < step * 1e-9 ? 0 : value
        return String(format: "%.\(decimals)f", shown)
    }

    /// A coordinate with two decimals.
    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Text safe inside an XML element or attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" { out += " " }
                else if scalar.value == 0xFFFE || scalar.value == 0xFFFF { out += " " }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
