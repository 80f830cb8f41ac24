//! Small self-contained SVG plots for reports: scatter, lines and step histograms on linear or log axes, with
//! ticks, labels and a legend. Plain text output, no fonts or system libraries needed, so reports render the same
//! everywhere (and inline into the HTML report).

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
/// Legend entries' spacing, and the width of a character of its 12-pixel text (an upper estimate).
const LEGEND_ROW: f64 = 16.0;
const CHAR_W: f64 = 7.0;
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Points,
    Line,
    /// Line with a marker at every point.
    LinePoints,
    /// A step histogram: each point is (bin start, value); the last point closes the last bin.
    Steps,
    /// A dashed line (a frontier, a reference).
    Dashed,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
}

#[derive(Debug, Clone, Default)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Axis {
    fn fit(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            let v = if log { v.log10() } else { v };
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = (lo - pad, hi + pad);
        }
        let pad = (hi - lo) * 0.05;
        Axis {
            log,
            lo: lo - pad,
            hi: hi + pad,
        }
    }

    /// Position in [0, 1] of a data value; `None` when it cannot be drawn (non-positive on a log axis).
    fn unit(&self, v: f64) -> Option<f64> {
        let t = if self.log { (v > 0.0).then(|| v.log10())? } else { v };
        t.is_finite().then(|| (t - self.lo) / (self.hi - self.lo))
    }

    /// Tick values in data units.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.floor() as i32, self.hi.ceil() as i32);
            let decades: Vec<f64> = (a..=b).map(|e| 10f64.powi(e)).collect();
            let mut t: Vec<f64> = if b - a <= 2 {
                decades.iter().flat_map(|&d| [d, 2.0 * d, 5.0 * d]).collect()
            } else {
                decades
            };
            t.retain(|&v| (self.lo..=self.hi).contains(&v.log10()));
            t
        } else {
            let step = nice_step((self.hi - self.lo) / 6.0);
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    }
}

fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    }
}

/// A tick label short enough for an axis.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Plot {
    pub fn to_svg(&self) -> String {
        let x = Axis::fit(
            self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
            self.log_x,
        );
        let y = Axis::fit(
            self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
            self.log_y,
        );
        // the plot area keeps its size; the legend goes to its right, and the picture grows to hold it
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let longest = self.series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
        let width = LEFT + pw + 30.0 + CHAR_W * longest as f64 + 10.0;
        let height = H.max(TOP + LEGEND_ROW * self.series.len() as f64 + 10.0);
        let px = |v: f64| x.unit(v).map(|u| LEFT + u * pw);
        let py = |v: f64| y.unit(v).map(|u| TOP + (1.0 - u) * ph);
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = write!(s, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
        let _ = write!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            LEFT + pw / 2.0,
            escape(&self.title)
        );
        for t in x.ticks() {
            if let Some(cx) = px(t) {
                let _ = write!(
                    s,
                    r##"<line x1="{cx:.1}" y1="{TOP}" x2="{cx:.1}" y2="{}" stroke="#e5e5e5"/><text x="{cx:.1}" y="{}" text-anchor="middle">{}</text>"##,
                    TOP + ph,
                    TOP + ph + 16.0,
                    format_number(t)
                );
            }
        }
        for t in y.ticks() {
            if let Some(cy) = py(t) {
                let _ = write!(
                    s,
                    r##"<line x1="{LEFT}" y1="{cy:.1}" x2="{}" y2="{cy:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                    LEFT + pw,
                    LEFT - 6.0,
                    cy + 4.0,
                    format_number(t)
                );
            }
        }
        let _ = write!(
            s,
            r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            TOP + ph + BOTTOM - 12.0,
            escape(&self.x_label)
        );
        let _ = write!(
            s,
            r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + ph / 2.0,
            escape(&self.y_label)
        );
        for (i, series) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            // past the palette's eight colours, the markers change shape
            let marker = Marker::ALL[i / PALETTE.len() % Marker::ALL.len()];
            let pts: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter_map(|&(a, b)| Some((px(a)?, py(b)?)))
                .collect();
            let path = |pts: &[(f64, f64)]| {
                pts.iter()
                    .enumerate()
                    .map(|(j, (a, b))| format!("{}{a:.1},{b:.1}", if j == 0 { "M" } else { "L" }))
                    .collect::<String>()
            };
            match series.style {
                Style::Line | Style::LinePoints | Style::Dashed if pts.len() > 1 => {
                    let dash = if series.style == Style::Dashed {
                        r#" stroke-dasharray="6 4""#
                    } else {
                        ""
                    };
                    let _ = write!(
                        s,
                        r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                        path(&pts)
                    );
                }
                Style::Steps if pts.len() > 1 => {
                    let mut steps = Vec::with_capacity(pts.len() * 2);
                    for w in pts.windows(2) {
                        steps.push((w[0].0, w[0].1));
                        steps.push((w[1].0, w[0].1));
                    }
                    let _ = write!(
                        s,
                        r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                        path(&steps)
                    );
                }
                _ => {}
            }
            if matches!(series.style, Style::Points | Style::LinePoints) || pts.len() == 1 {
                for &(a, b) in &pts {
                    s.push_str(&marker.at(a, b, color));
                }
            }
            let ly = TOP + 9.0 + LEGEND_ROW * i as f64;
            let lx = LEFT + pw + 20.0;
            let _ = write!(
                s,
                r#"{}<text x="{}" y="{:.1}">{}</text>"#,
                marker.at(lx, ly, color),
                lx + 10.0,
                ly + 4.0,
                escape(&series.name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// A point's marker: series past the palette's colours get the next shape.
#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Diamond,
}

impl Marker {
    const ALL: [Marker; 3] = [Marker::Circle, Marker::Square, Marker::Diamond];

    /// The marker centred on (x, y).
    fn at(self, x: f64, y: f64, color: &str) -> String {
        match self {
            Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{color}"/>"#),
            Marker::Square => format!(
                r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{color}"/>"#,
                x - 4.0,
                y - 4.0
            ),
            Marker::Diamond => format!(
                r#"<path d="M{x:.1},{:.1}L{:.1},{y:.1}L{x:.1},{:.1}L{:.1},{y:.1}Z" fill="{color}"/>"#,
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x - 5.0
            ),
        }
    }
}

/// A step histogram of `values` over `bins` equal bins between the smallest and largest value: points for
/// [`Style::Steps`], the share of values per bin.
pub fn histogram(values: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let bins = bins.max(1);
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let mut counts = vec![0usize; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let n = values.len().max(1) as f64;
    let mut pts: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(b, &c)| (lo + b as f64 * width, c as f64 / n))
        .collect();
    pts.push((lo + bins as f64 * width, *pts.last().map(|p| &p.1).unwrap_or(&0.0)));
    pts
}

/// The Pareto frontier of points to minimise on both axes, sorted by x.
pub fn pareto_frontier(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut frontier: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if frontier.last().is_none_or(|last| p.1 < last.1) {
            frontier.push(p);
        }
    }
    frontier
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_keeps_the_points_nothing_beats_on_both_axes() {
        let pts = [(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0), (2.0, 6.0)];
        assert_eq!(pareto_frontier(&pts), vec![(1.0, 5.0), (2.0, 3.0), (4.0, 1.0)]);
    }

    #[test]
    fn histogram_shares_sum_to_one() {
        let h = histogram(&[0.0, 0.1, 0.5, 1.0], 2, 0.0, 1.0);
        assert_eq!(h, vec![(0.0, 0.5), (0.5, 0.5), (1.0, 0.5)]);
    }

    #[test]
    fn log_axes_tick_at_decades_and_skip_non_positive_values() {
        let axis = Axis::fit([0.001, 0.5, 0.0, -1.0].into_iter(), true);
        let ticks = axis.ticks();
        assert!(ticks.contains(&0.01) && ticks.contains(&0.1), "{ticks:?}");
        assert_eq!(axis.unit(0.0), None);
        let plot = Plot {
            title: "a <b>".into(),
            log_x: true,
            series: vec![Series {
                name: "run".into(),
                points: vec![(0.0, 1.0), (1.0, 2.0)],
                style: Style::Points,
            }],
            ..Plot::default()
        };
        let svg = plot.to_svg();
        assert!(
            // the point at x = 1 and the legend's marker; x = 0 has no place on the log axis
            svg.contains("a &lt;b&gt;") && svg.matches("<circle").count() == 2,
            "{svg}"
        );
    }

    #[test]
    fn the_legend_sits_beside_the_plot_and_shapes_outlast_the_palette() {
        let series = (0..12)
            .map(|i| Series {
                name: format!("conditional-pretrain-seed{i}"),
                points: vec![(i as f64, 1.0 + i as f64)],
                style: Style::Points,
            })
            .collect();
        let svg = Plot {
            series,
            ..Plot::default()
        }
        .to_svg();
        let number_after = |key: &str, from: usize| -> f64 {
            let at = svg[from..].find(key).expect(key) + from + key.len();
            svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
        };
        let width = number_after("width=\"", 0);
        let plot_right = W - RIGHT;
        let mut legend_texts = 0;
        for (at, _) in svg.match_indices("conditional-pretrain-seed") {
            let text = svg[..at].rfind("<text x=\"").unwrap();
            let x = number_after("<text x=\"", text);
            assert!(
                x > plot_right,
                "legend text at x = {x}, inside the plot (right edge {plot_right})"
            );
            assert!(
                x + CHAR_W * 27.0 <= width,
                "legend text at {x} runs past the picture's {width}"
            );
            legend_texts += 1;
        }
        assert_eq!(legend_texts, 12);
        // eight colours as circles, then squares: each point and its legend entry
        assert_eq!(svg.matches("<circle").count(), 2 * 8);
        assert_eq!(svg.matches(r#"width="8" height="8""#).count(), 2 * 4);
    }

    #[test]
    fn numbers_format_briefly() {
        assert_eq!(format_number(0.25), "0.25");
        assert_eq!(format_number(2e-5), "2e-5");
        assert_eq!(format_number(1500.0), "1500");
    }
}
