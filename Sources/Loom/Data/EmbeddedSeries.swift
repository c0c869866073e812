import Foundation

extension EmbeddedDatasets {
    /// The forecaster's default series: `count` monthly values (20 years by default) with
    /// a linear trend, a yearly cycle whose amplitude grows with the level (like airline
    /// traffic), a second harmonic and Gaussian noise, generated with
    /// `RandomGenerator(seed:)`. All values are positive. Header `month,value`.
    public static func seasonalSeries(count: Int = 240, seed: UInt64 = 0x5EA5) -> TimeSeries {
        var g = RandomGenerator(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(count)
        for t in 0..<count {
            let time = Double(t)
            let level = 120 + 1.5 * time
            let yearly = (0.18 * level) * sin(2 * Double.pi * time / 12)
            let harmonic = 0.06 * level * sin(4 * Double.pi * time / 12 + 1)
            let noise = 4 * g.nextNormal()
            values.append(max(1, level + yearly + harmonic + noise))
        }
        return TimeSeries(header: ["month", "value"], column: 1, values: values)
    }
}
