// Export buttons: POST /api/exports, poll the job for the progress bar, then download
// the file. Any failure (including a server without the export API) becomes a message.
// The clip's length and frame rate come from two fields whose ranges and default are the
// server's (/api/settings); the title, the file name and every word of the file are the
// server's too, from the scene's preset or landscape and the page's language.

import { ApiError, getJSON, postJSON } from "./api.js";
import { t } from "./i18n.js";
import { getCatalog, recorded, state, trajectoryRequest } from "./state.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 250;
const TIMEOUT_MS = 10 * 60 * 1000;

let busy = false;

// The page's choice for a slide (720p, 30 fps), kept within the limits the server
// enforces (/api/settings).
const SLIDE = { width: 1280, height: 720, fps: 30 };

function limits(name) {
  return getCatalog().settings.export[name];
}

function within(name, value) {
  const { min, max } = limits(name);
  return Math.max(min, Math.min(max, value));
}

/** The clip fields' value, or an Error naming the field and its range. */
function clipOption(name) {
  const input = $(`export-${name}`);
  const { min, max, integer } = limits(name);
  const value = Number(input.value);
  if (
    input.value.trim() === "" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const field = t(`export.${name}`);
    throw new Error(t("export.range", { field, min, max }));
  }
  return value;
}

export function exportRequest(format, cursor) {
  const scene = trajectoryRequest();
  // The runs shown from inside are recorded, as on the page: their arrows are drawn and
  // a CSV or JSON carries their state (torch's names).
  for (const run of scene.runs) if (recorded(run.optimizer)) run.record = true;
  return {
    ...scene,
    format,
    width: within("width", SLIDE.width),
    height: within("height", SLIDE.height),
    fps: clipOption("fps"),
    duration: clipOption("duration"),
    layout: state.mode === "side_by_side" ? "side_by_side" : "overlay",
    frame: cursor,
    // Every word of the file in the page's language; the preset titles it, names the file
    // and puts its lesson in the handout.
    lang: state.lang,
    preset: state.preset || null,
    // The gradient, momentum and step arrows at each recorded run's point (every run
    // records for them when none is shown from inside).
    arrows: $("export-arrows").checked,
  };
}

/** The clip fields: the server's ranges, its default length and the slide frame rate. */
function setupClipFields() {
  const fields = { duration: limits("duration").default, fps: within("fps", SLIDE.fps) };
  for (const [name, value] of Object.entries(fields)) {
    const input = $(`export-${name}`);
    const { min, max } = limits(name);
    input.min = String(min);
    input.max = String(max);
    if (input.value === "") input.value = String(value);
  }
}

function setMessage(text, kind) {
  const el = $("export-message");
  el.hidden = !text;
  el.textContent = text || "";
  el.dataset.kind = kind || "";
}

function setBusy(value) {
  busy = value;
  for (const button of document.querySelectorAll("[data-format]")) button.disabled = value;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runExport(format, cursor) {
  const body = exportRequest(format, cursor); // a field out of range stops here, named
  const bar = $("export-progress");
  bar.hidden = false;
  bar.value = 0;
  bar.removeAttribute("data-done");
  setMessage(t("export.starting", { format: format.toUpperCase() }), "info");
  let job;
  try {
    job = await postJSON("/api/exports", body);
  } catch (err) {
    const missing = err instanceof ApiError && [404, 405, 501].includes(err.status);
    throw new Error(missing ? t("export.unavailable") : err.message);
  }
  const started = Date.now();
  while (job.status !== "done") {
    if (job.status === "error") throw new Error(job.detail || t("export.failed"));
    if (Date.now() - started > TIMEOUT_MS) throw new Error(t("export.timeout"));
    bar.value = Math.max(0, Math.min(1, job.progress || 0));
    setMessage(
      t("export.progress", { format: format.toUpperCase(), percent: Math.round(bar.value * 100) }),
      "info",
    );
    await sleep(POLL_MS);
    job = await getJSON(`/api/exports/${encodeURIComponent(job.id)}`);
  }
  bar.value = 1;
  bar.dataset.done = "true";
  const link = document.createElement("a");
  link.href = `/api/exports/${encodeURIComponent(job.id)}/file`;
  link.download = job.filename || `gradscape.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setMessage(t("export.done", { file: job.filename || `gradscape.${format}` }), "ok");
}

export function bindExports(getCursor) {
  setupClipFields();
  for (const button of document.querySelectorAll("[data-format]")) {
    button.addEventListener("click", async () => {
      if (busy) return;
      setBusy(true);
      try {
        await runExport(button.dataset.format, getCursor());
      } catch (err) {
        setMessage(t("export.error", { detail: err.message }), "error");
      } finally {
        setBusy(false);
      }
    });
  }
}
