// Keys: Space play/pause, ←/→ step, N the next update step by step (inside.js), R restart,
// F presentation mode, M the Race/Maps switch (maps.js), Q the link's QR code
// filling the screen (on a server the room can reach), Esc closes it or leaves presentation.
// Text fields, number fields, sliders and selects keep their own keys — but a slider the
// pointer moved gives its focus back when the pointer lets go, so Space and ←/→ drive
// playback again; a slider reached with Tab keeps its arrow keys.

import { stepOnce } from "./inside.js";
import { cursor, isPlaying, play, restart, setCursor } from "./playback.js";
import { qrShown, showQR } from "./share.js";
import { state, update } from "./state.js";

function releaseSlidersAfterPointer() {
  let held = null;
  document.addEventListener(
    "pointerdown",
    (e) => {
      held = e.target instanceof HTMLInputElement && e.target.type === "range" ? e.target : null;
    },
    true,
  );
  const release = () => {
    const slider = held;
    held = null;
    // After the browser's own pointerup/change handling, which may focus the slider.
    if (slider) setTimeout(() => document.activeElement === slider && slider.blur(), 0);
  };
  window.addEventListener("pointerup", release, true);
  window.addEventListener("pointercancel", release, true);
}

export function bindKeyboard({ togglePresentation }) {
  releaseSlidersAfterPointer();
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target.tagName;
    // a summary opens and closes its <details> (the optimizer picker's groups) on Space
    const toggle =
      tag === "BUTTON" || tag === "SUMMARY" || (tag === "INPUT" && e.target.type === "checkbox");
    if (!toggle && (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA")) return;
    if (e.key === " " || e.code === "Space") {
      if (toggle) return; // a focused button or checkbox handles space itself
      e.preventDefault();
      play(!isPlaying());
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      play(false);
      setCursor(cursor() + 1);
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      play(false);
      setCursor(cursor() - 1);
    } else if (e.key === "r" || e.key === "R") {
      restart();
    } else if (e.key === "f" || e.key === "F") {
      togglePresentation(!state.presentation);
    } else if ((e.key === "n" || e.key === "N") && state.inspect.length) {
      stepOnce(); // step-by-step: exactly one update, its terms lit and its arrows gliding
    } else if (e.key === "m" || e.key === "M") {
      update({ stage: state.stage === "maps" ? "race" : "maps" });
    } else if (e.key === "q" || e.key === "Q") {
      showQR(); // the link's QR code over everything, when students can open it
    } else if (e.key === "Escape" && qrShown()) {
      showQR(false);
    } else if (e.key === "Escape" && state.presentation) {
      togglePresentation(false);
    }
  });
}
