// Keys: Space play/pause, ←/→ step, R restart, F presentation mode, Esc leaves it.
// Text fields, number fields, sliders and selects keep their own keys.

import { cursor, isPlaying, play, restart, setCursor } from "./playback.js";
import { state } from "./state.js";

export function bindKeyboard({ togglePresentation }) {
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target.tagName;
    const toggle = tag === "BUTTON" || (tag === "INPUT" && e.target.type === "checkbox");
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
    } else if (e.key === "Escape" && state.presentation) {
      togglePresentation(false);
    }
  });
}
