// REST helpers and the live WebSocket channel. Each run carries a client-chosen id; every
// message about another id is stale and dropped, so only the latest slider value draws.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => (d.loc ? `${d.loc.filter((x) => x !== "body").join(".")}: ${d.msg}` : d.msg))
      .join("; ");
  }
  return JSON.stringify(detail);
}

export async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new ApiError(await errorMessage(response), response.status);
  return response.json();
}

export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(await errorMessage(response), response.status);
  return response.json();
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.detail !== undefined) return detailText(body.detail);
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`;
}

export async function loadCatalog() {
  const [landscapes, optimizers, presets, settings] = await Promise.all([
    getJSON("/api/landscapes"),
    getJSON("/api/optimizers"),
    getJSON("/api/presets"),
    getJSON("/api/settings"),
  ]);
  const list = Array.isArray(landscapes) ? landscapes : landscapes.landscapes;
  return {
    landscapes: new Map(list.map((l) => [l.name, l])),
    optimizers: optimizers.optimizers,
    groups: optimizers.groups, // the picker's groups, in order
    scene: optimizers.scene, // the optimizers a fresh scene races
    schedules: optimizers.schedules,
    presets: presets.presets,
    settings, // limits, colours, colorscale: the page keeps no copies
  };
}

const grids = new Map();

export function loadGrid(name, resolution, digits) {
  const key = `${name}@${resolution}/${digits}`;
  if (!grids.has(key)) {
    const query = `resolution=${resolution}&digits=${digits}`;
    const promise = getJSON(`/api/landscapes/${encodeURIComponent(name)}/grid?${query}`);
    promise.catch(() => grids.delete(key));
    grids.set(key, promise);
  }
  return grids.get(key);
}

/**
 * The live channel. `run(body)` sends a run (cancelling the previous one on the server)
 * and returns its id; handlers get only messages of the latest id. If the socket cannot
 * be opened the run falls back to POST /api/trajectories, delivered as the same events.
 */
export class LiveRunner {
  constructor(handlers) {
    this.handlers = handlers; // {meta, chunk, done, error}
    this.counter = 0;
    this.currentId = null;
    this.pending = null;
    this.socket = null;
    this.failures = 0;
    this.connect();
  }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/trajectories`;
    let socket;
    try {
      socket = new WebSocket(url);
    } catch {
      this.failures += 1;
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      if (this.pending) {
        socket.send(JSON.stringify(this.pending));
        this.pending = null;
      }
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failures += 1;
      if (this.pending) this.flushByRest();
      // Reconnect quietly (the server may be restarting); REST covers the gap.
      setTimeout(() => this.connect(), Math.min(5000, 250 * 2 ** this.failures));
    });
  }

  run(body) {
    this.counter += 1;
    const id = `r${this.counter}`;
    this.currentId = id;
    const message = { type: "run", id, ...body };
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    } else {
      this.pending = message;
      if (!this.socket || this.failures > 0) this.flushByRest();
    }
    return id;
  }

  /** A new id with nothing sent: whatever is still streaming becomes stale. */
  skip() {
    this.counter += 1;
    this.currentId = `r${this.counter}`;
    this.pending = null;
    return this.currentId;
  }

  async flushByRest() {
    const message = this.pending;
    if (!message) return;
    this.pending = null;
    const { type: _type, id, ...body } = message;
    try {
      const reply = await postJSON("/api/trajectories", body);
      if (id !== this.currentId) return;
      this.receive({
        type: "meta",
        id,
        steps: body.steps,
        runs: reply.runs.map((run) => ({
          ...run,
          record: Boolean(run.record),
          buffers: Object.keys(run.record?.state ?? {}),
        })),
        lr_factors: reply.lr_factors ?? null,
      });
      reply.runs.forEach((run, i) => {
        const chunk = { type: "chunk", id, run: i, offset: 0, points: run.points };
        chunk.losses = run.losses;
        // A recorded run's state: updates 0 … len(points) − 2, as the socket's chunks send it.
        if (run.record) chunk.record = { first: 0, ...run.record };
        this.receive(chunk);
      });
      this.receive({ type: "done", id, runs: reply.runs });
    } catch (err) {
      this.receive({ type: "error", id, detail: err.message });
    }
  }

  receive(message) {
    // Latest wins: anything about an older run is stale.
    if (message.id !== undefined && message.id !== this.currentId) return;
    const handler = this.handlers[message.type];
    if (handler) handler(message);
  }
}
