// The share panel. A link built from 127.0.0.1 opens each student's own laptop, so the
// panel asks the server (GET /api/share) whether it listens on loopback only — then says
// students cannot open the link, and how to change that — or which addresses the room's
// network reaches: then it shows the link at that address and its QR code (GET /api/qr,
// drawn by the server on this machine).

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
  if (fits && qr.dataset.text !== room) {
    qr.dataset.text = room;
    qr.src = `/api/qr?text=${encodeURIComponent(room)}`;
  }
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
  refreshShare();
}
