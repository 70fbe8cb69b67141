// The address bar follows the state (its serialization is state.js's toQuery): written a
// moment after a change, and during playback only once it stops, so history writes stay rare.

import { isPlaying } from "./playback.js";
import { refreshShare } from "./share.js";
import { toQuery } from "./state.js";

let urlTimer = null;

export function scheduleURL() {
  if (urlTimer) return;
  urlTimer = setTimeout(() => {
    urlTimer = null;
    if (isPlaying()) return; // written when playback stops
    const url = `${location.pathname}?${toQuery()}`;
    if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
    refreshShare(); // the share panel shows the same link (and its room address and QR code)
  }, 120);
}
