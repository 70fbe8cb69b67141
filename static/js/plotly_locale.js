// Plotly's own words (modebar tooltips, the "Double-click to zoom back out" toast) in the
// page's language. Plotly ships English only in the bundle we serve; its locale files are
// separate downloads, so the few strings our charts can show are translated here and
// registered with Plotly.register({moduleType: "locale"}). The charts pass
// `withLocale(config)` so a language toggle re-renders them in the new language.

import { lang } from "./i18n.js";

// Only what the main plot's modebar (contour and 3-D surface) and its tips can show.
const JA = {
  Zoom: "ズーム",
  Pan: "移動",
  "Zoom in": "拡大",
  "Zoom out": "縮小",
  "Reset axes": "表示範囲を元に戻す",
  Autoscale: "自動調整",
  "Box Select": "矩形で選択",
  "Lasso Select": "自由な形で選択",
  "Download plot as a PNG": "PNG で保存",
  "Download plot": "図を保存",
  "Orbital rotation": "自由回転",
  "Turntable rotation": "水平回転",
  "Reset camera to default": "視点を元に戻す",
  "Reset camera to last save": "視点を保存した位置に戻す",
  "Show closest data on hover": "最も近い点の値を表示",
  "Compare data on hover": "同じ位置の値を比較",
  "Toggle show closest data on hover": "最も近い点の値の表示を切り替え",
  "Toggle Spike Lines": "補助線の表示を切り替え",
  "Reset view": "表示を元に戻す",
  "Reset views": "表示を元に戻す",
  Reset: "元に戻す",
  "Double-click to zoom back out": "ダブルクリックで元の表示範囲に戻ります",
  "Double-click on legend to isolate one trace":
    "凡例をダブルクリックするとその系列だけを表示します",
};

let registered = false;

function register() {
  if (registered || !window.Plotly) return;
  window.Plotly.register({ moduleType: "locale", name: "ja", dictionary: JA });
  registered = true;
}

/** `config` with the page's language as Plotly's locale (and no "Share chart" button). */
export function withLocale(config) {
  register();
  return { ...config, locale: registered ? lang() : "en", showSendToCloud: false };
}
