// Playback: the cursor (state.t) moved by play/pause, step, scrub, speed and loop, and the
// toolbar that shows it. Keys that drive it are in keyboard.js.

import { t } from "./i18n.js";
import { current } from "./runs.js";
import { state, update } from "./state.js";

const $ = (id) => document.getElementById(id);

let playing = false;
let lastFrame = 0;
let carry = 0;
let onPause = () => {};

const steps = () => current().steps || state.steps;

export const isPlaying = () => playing;

/** The step shown: state.t, or the end of the run when it is null. */
export function cursor() {
  return state.t === null ? steps() : Math.min(state.t, steps());
}

export function setCursor(c) {
  const last = steps();
  const clamped = Math.max(0, Math.min(last, Math.round(c)));
  update({ t: clamped >= last ? null : clamped });
}

export function play(on) {
  if (on === playing) return;
  playing = on;
  if (playing) {
    if (cursor() >= steps()) setCursor(0);
    lastFrame = performance.now();
    carry = 0;
    requestAnimationFrame(tick);
  } else {
    onPause();
  }
  updatePlayback();
}

function tick(now) {
  if (!playing) return;
  const last = steps();
  // 1× plays any run in about five seconds (at least 8 steps a second).
  const rate = Math.max(last / 5, 8) * state.speed;
  carry += ((now - lastFrame) / 1000) * rate;
  lastFrame = now;
  const advance = Math.floor(carry);
  if (advance > 0) {
    carry -= advance;
    let next = cursor() + advance;
    if (next >= last) {
      if (state.loop && cursor() >= last) next = 0;
      else if (!state.loop) {
        setCursor(last);
        play(false);
        return;
      } else next = last;
    }
    setCursor(next);
  }
  requestAnimationFrame(tick);
}

export function restart() {
  setCursor(0);
  play(true);
}

/** Write the cursor and the play state into the toolbar. */
export function updatePlayback() {
  const last = steps();
  const c = cursor();
  const scrub = $("scrub");
  scrub.max = String(last);
  if (document.activeElement !== scrub || !playing) scrub.value = String(c);
  $("step-label").textContent = t("play.stepOf", { step: c, steps: last });
  const button = $("play");
  button.querySelector(".icon").textContent = playing ? "❚❚" : "▶";
  button.querySelector(".text").textContent = playing ? t("play.pause") : t("play.play");
  button.setAttribute("aria-pressed", playing ? "true" : "false");
}

/** Wire the toolbar; `paused` runs when playback stops (the URL is written then). */
export function bindPlayback({ paused }) {
  onPause = paused;
  $("play").addEventListener("click", () => play(!playing));
  $("step-forward").addEventListener("click", () => {
    play(false);
    setCursor(cursor() + 1);
  });
  $("step-back").addEventListener("click", () => {
    play(false);
    setCursor(cursor() - 1);
  });
  $("scrub").addEventListener("input", (e) => {
    play(false);
    setCursor(Number(e.target.value));
  });
}
