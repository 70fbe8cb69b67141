// Robust ranges: what a chart's value axis spans, set by the landscape's own values over its
// bounds rather than by the largest number any run reached. On the saddle, Momentum runs
// off to f = −2.2e11; letting that set the loss chart's and the 3-D view's range flattens
// both into a line with a cliff. Runs that leave the band are clipped at its edge and
// marked off scale (the views draw the marks and say so in a note).
// app/export/ranges.py is this module's Python twin for the exports (the same band, clipping
// and short numbers); tests/app/test_ranges_twin.py holds BAND_MULTIPLE equal in both.

// How far beyond the landscape's own range a run may go and still be drawn: an order of
// magnitude of that range, so a run that escapes downhill shows it, a runaway doesn't rule.
export const BAND_MULTIPLE = 10;

/** min, max and span of the finite values of a grid's z (f over the landscape's bounds). */
export function landscapeRange(grid) {
  if (grid.range) return grid.range;
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid.z) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  let cmin = Infinity;
  let cmax = -Infinity;
  for (const row of grid.color) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < cmin) cmin = v;
      if (v > cmax) cmax = v;
    }
  }
  // The grid is immutable once loaded: compute once.
  grid.range = { min: lo, max: hi, span: Math.max(hi - lo, 1e-12), cmin, cmax };
  return grid.range;
}

/**
 * The band of loss-chart values drawn: linear f (no known minimum) within BAND_MULTIPLE
 * spans of the landscape's range; log f − f* up to BAND_MULTIPLE × its largest gap.
 */
export function lossBand(range, fstar) {
  if (fstar === null) {
    return {
      lo: range.min - BAND_MULTIPLE * range.span,
      hi: range.max + BAND_MULTIPLE * range.span,
    };
  }
  return { lo: 0, hi: BAND_MULTIPLE * Math.max(range.max - fstar, 1e-12) };
}

/**
 * `values[0..n)` clipped to [lo, hi]: the first value past an edge is drawn at the edge,
 * later ones are NaN (a gap: the run is off scale from there). Returns the clipped copy
 * and where the run left ({step, side: "below" | "above"}, or null if it never did).
 */
export function clipSeries(values, n, lo, hi) {
  const out = new Float64Array(n);
  let off = null;
  for (let i = 0; i < n; i += 1) {
    const v = values[i];
    if (off) {
      out[i] = Number.NaN;
    } else if (v < lo) {
      off = { step: i, side: "below" };
      out[i] = lo;
    } else if (v > hi) {
      off = { step: i, side: "above" };
      out[i] = hi;
    } else {
      out[i] = v;
    }
  }
  return { values: out, off };
}

/** Smallest and largest finite value of several arrays (or null when there is none). */
export function extent(arrays) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (const v of a) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? { lo, hi } : null;
}

/** A number for a note, short: −84, 2.5e+3 → "2.5e3". */
export function shortNumber(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-2)) return v.toExponential(1).replace("e+", "e");
  return String(Number(v.toPrecision(3))).replace("-", "−");
}
