// The share panel. A link built from 127.0.0.1 opens each student's own laptop, so the
// panel asks the server (GET /api/share) whether it listens on loopback only — then says
// students cannot open the link, and how to change that — or which addresses the room's
// network reaches: then it shows the link at that address and its QR code (GET /api/qr,
// drawn by the server on this machine), which a click or key Q shows filling the screen.

import { t } from "./i18n.js";
import { toURL } from "./state.js";

const $ = (id) => document.getElementById(id);
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/;

let info = null; // {loopback_only, lan_hosts, lan_urls, qr_max_bytes}

/** `link` at `host` instead (port, path and query kept). */
export function atHost(link, host) {
  const url = new URL(link);
  url.hostname = host;
  return url.href;
}

/** The link students open: this page's own if they can reach it, else at the LAN address. */
function roomLink(link) {
  if (!info || info.loopback_only || info.lan_hosts.length === 0) return null;
  const here = location.hostname;
  return LOOPBACK.test(here) ? atHost(link, info.lan_hosts[0]) : link;
}

/** Write the current link, and the warning or the room's link and QR code, into the panel. */
export function refreshShare() {
  const link = toURL();
  $("share-url").value = link;
  if (!info) return;
  $("share-warning").hidden = !info.loopback_only;
  $("share-nolan").hidden = info.loopback_only || info.lan_hosts.length > 0;
  const room = roomLink(link);
  $("share-lan").hidden = room === null;
  if (room === null) return;
  const field = $("share-lan-url");
  if (field !== document.activeElement) field.value = room;
  const qr = $("share-qr");
  qr.alt = t("share.qr");
  // The server refuses links too long to scan; a teacher link with many controls can be.
  const fits = new TextEncoder().encode(room).length <= info.qr_max_bytes;
  qr.hidden = !fits;
  qr.title = t("share.qrShow");
  if (fits && qr.dataset.text !== room) {
    qr.dataset.text = room;
    qr.src = `/api/qr?text=${encodeURIComponent(room)}`;
  }
  if (qrShown()) fillOverlay();
}

// ------------------------------------------------------------------ the large QR code
// The panel's 176 px code reads from the front rows; the back of the hall needs it filling
// the screen. Clicking the code, or key Q (keyboard.js, also in presentation mode, where
// the panel is hidden) shows it over everything; Esc, Q or a click closes it.

let overlay = null;

/** The code the room can scan, or null (loopback only, no address, or a link too long). */
function scannable() {
  const room = roomLink(toURL());
  if (room === null) return null;
  return new TextEncoder().encode(room).length <= info.qr_max_bytes ? room : null;
}

function fillOverlay() {
  const room = scannable();
  if (room === null) {
    showQR(false);
    return;
  }
  const img = overlay.querySelector("img");
  if (img.dataset.text !== room) {
    img.dataset.text = room;
    img.src = `/api/qr?text=${encodeURIComponent(room)}`;
  }
  img.alt = t("share.qr");
  overlay.querySelector(".qr-link").textContent = room;
  const close = overlay.querySelector("button");
  close.textContent = t("share.qrClose");
}

function buildOverlay() {
  overlay = document.createElement("div");
  overlay.className = "qr-overlay";
  overlay.id = "qr-overlay";
  overlay.dataset.testid = "qr-overlay";
  overlay.setAttribute("role", "dialog");
  overlay.hidden = true;
  overlay.innerHTML = `<div class="qr-card">
      <img data-testid="qr-large" alt="">
      <p class="qr-link"></p>
    </div>
    <button type="button" class="qr-close" data-testid="qr-close"></button>`;
  overlay.addEventListener("click", () => showQR(false));
  document.body.append(overlay);
}

/** Whether the large QR code is showing. */
export function qrShown() {
  return overlay !== null && !overlay.hidden;
}

/** Show (or hide) the large QR code; showing does nothing when there is no code to scan.
 * Returns whether it is showing. */
export function showQR(show = !qrShown()) {
  if (show && scannable() === null) return false;
  if (!overlay) {
    if (!show) return false;
    buildOverlay();
  }
  overlay.hidden = !show;
  if (show) fillOverlay();
  return show;
}

/** What "Copy link" (and the teacher link) copies: `link` at the address students can
 * open, when the server knows one. */
export function studentLink(link = toURL()) {
  return roomLink(link) ?? link;
}

/** Ask the server once where it listens; the panel follows the link from then on. */
export async function bindShare() {
  try {
    const reply = await fetch("/api/share");
    info = reply.ok ? await reply.json() : null;
  } catch {
    info = null; // the panel keeps its plain link
  }
  $("share-qr").addEventListener("click", () => showQR(true));
  refreshShare();
}
