// Export buttons: POST /api/exports, poll the job for the progress bar, then download
// the file. Any failure (including a server without the export API) becomes a message.

import { ApiError, getJSON, postJSON } from "./api.js";
import { t } from "./i18n.js";
import { getCatalog, state, trajectoryRequest } from "./state.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 250;
const TIMEOUT_MS = 10 * 60 * 1000;

let busy = false;

// The exporter draws the landscape's own title; ours adds the preset's name, if any.
function sceneTitle() {
  const preset = getCatalog().presets.find((p) => p.id === state.preset);
  return preset ? preset.title[state.lang] || preset.title.en : "";
}

// The page's choice for a slide (720p, 30 fps, at most 300 frames), kept within the limits
// the server enforces (/api/settings).
function within(name, value) {
  const { min, max } = getCatalog().settings.export[name];
  return Math.max(min, Math.min(max, value));
}

export function exportRequest(format, cursor) {
  return {
    ...trajectoryRequest(),
    format,
    width: within("width", 1280),
    height: within("height", 720),
    fps: within("fps", 30),
    frames: within("frames", Math.min(state.steps + 1, 300)),
    layout: state.mode === "side_by_side" ? "side_by_side" : "overlay",
    frame: cursor,
    title: sceneTitle(),
    // The HTML handout speaks the page's language and carries the preset's lesson.
    lang: state.lang,
    preset: state.preset || null,
  };
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
  const bar = $("export-progress");
  bar.hidden = false;
  bar.value = 0;
  bar.removeAttribute("data-done");
  setMessage(t("export.starting", { format: format.toUpperCase() }), "info");
  let job;
  try {
    job = await postJSON("/api/exports", exportRequest(format, cursor));
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
