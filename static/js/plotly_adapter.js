// The Plotly.js internals the views need, in one place. Plotly has no public API for where
// an axis is drawn (its pixel offset and length) or for converting between pixels and data
// coordinates, so these read the private axis objects of `gd._fullLayout` (the layout as
// drawn: defaults filled in, constraints applied; `gd.layout` holds only what we passed).
// A Plotly upgrade that renames them breaks this file only; pyproject.toml pins Plotly's
// major version, and the browser tests click the plot, zoom it and move the loss cursor.

/** The drawn x and y axes of a chart, or null before its first draw. */
function axes(gd) {
  const full = gd._fullLayout;
  return full?.xaxis && full.yaxis ? { xa: full.xaxis, ya: full.yaxis } : null;
}

/**
 * Data coordinates [x, y] under a mouse position (client pixels), or null outside the plot
 * area. Needs `_offset`/`_length` (the plot area's pixel box in the chart) and `p2c` (pixel
 * to data): Plotly's own click events report only clicks on a trace's points, never on the
 * empty plot area where a click sets the start.
 */
export function dataAt(gd, clientX, clientY) {
  const a = axes(gd);
  if (!a) return null;
  const rect = gd.getBoundingClientRect();
  const px = clientX - rect.left - a.xa._offset;
  const py = clientY - rect.top - a.ya._offset;
  if (px < 0 || py < 0 || px > a.xa._length || py > a.ya._length) return null;
  return [a.xa.p2c(px), a.ya.p2c(py)];
}

/**
 * The x and y ranges as drawn, after a zoom or pan. Needs the drawn axes' `range`: a
 * `plotly_relayout` event carries only the keys that changed (say `xaxis.range[0]`), and the
 * equal-scale constraint may have moved the other axis, which only the drawn layout knows.
 */
export function drawnRanges(gd) {
  const a = axes(gd);
  return a ? { x: [...a.xa.range], y: [...a.ya.range] } : null;
}

/**
 * Where the plot area is drawn in the chart (pixels) and where a data x lies on it. Needs
 * `_offset`/`_length` and `l2p` (data to pixel): the loss chart's playback cursor is a CSS
 * line moved without a Plotly redraw (a Plotly shape would redraw the chart every frame).
 */
export function plotArea(gd) {
  const a = axes(gd);
  if (!a) return null;
  return {
    top: a.ya._offset,
    height: a.ya._length,
    xToPixel: (x) => a.xa._offset + a.xa.l2p(x),
  };
}

/**
 * Data to pixel conversions of a chart's x and y axes and its plot area's box, in pixels
 * from the chart's top left, or null before its first draw. Needs `_offset`/`_length` and
 * `l2p`: the step dots are drawn on a canvas of their own (dots.js), not by Plotly.
 */
export function dataToPixels(gd) {
  const a = axes(gd);
  if (!a) return null;
  return {
    left: a.xa._offset,
    top: a.ya._offset,
    width: a.xa._length,
    height: a.ya._length,
    x: (v) => a.xa._offset + a.xa.l2p(v),
    y: (v) => a.ya._offset + a.ya.l2p(v),
  };
}
