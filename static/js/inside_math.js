// The numbers of one update of a recorded run, as the equation panel, the arrows and the
// effective-learning-rate chart show them. Pure functions of the run (its points, resolved
// hyperparameters and `record`: what the server recorded, update t at index t) — nothing
// here draws. Update t (0-based) leaves point t: θₜ → θₜ₊₁; torch's step count is t + 1.

/** (x, y) of pair t of a flat [x0, y0, x1, y1, …] array. */
export const pair = (values, t) => [values[2 * t], values[2 * t + 1]];

const finite = (v) => v.every(Number.isFinite);
const scale = (k, v) => [k * v[0], k * v[1]];
const add = (a, b) => [a[0] + b[0], a[1] + b[1]];
const each = (v, fn) => [fn(v[0]), fn(v[1])];

/** The buffer the arrows draw as momentum: Adam's first moment m, else the momentum
 * buffer b (Momentum, NAG, RMSprop with μ > 0), optax's m (`mu`: Lion, LAMB) or LARS's
 * `trace`; null for SGD, AdaGrad, plain RMSprop. */
export function momentumName(rec) {
  if (!rec) return null;
  const names = ["exp_avg", "momentum_buffer", "mu", "trace"];
  return names.find((name) => rec.buffers.includes(name)) ?? null;
}

// LARS's trace already holds steps (−η r u, optax's order): its arrow is +b, not −b.
const STEP_BUFFERS = new Set(["trace"]);

/** ‖θ‖, ‖u‖ and optax's trust ratio r = τ‖θ‖ / (‖u‖ + ε), 1 where a norm is 0. */
function trust(v, u, coefficient, eps) {
  v.u = u;
  v.pnorm = Math.hypot(v.theta[0], v.theta[1]);
  v.unorm = Math.hypot(u[0], u[1]);
  const one = v.pnorm === 0 || v.unorm === 0;
  v.ratio = one ? 1 : (coefficient * v.pnorm) / (v.unorm + eps);
  v.terms.push("norms", one ? "ratio_one" : "ratio");
}

/** Adam's moments after update t (m, v, their previous values, the bias corrections and
 * m̂), the shared part of Adam, AdamW, AMSGrad, NAdam, RAdam, Adamax and LAMB; `first` and
 * `second` name the buffers (torch's exp_avg/exp_avg_sq, optax's mu/nu). */
function moments(v, rec, p, t, first = "exp_avg", second = "exp_avg_sq") {
  v.beta1 = p.beta1;
  v.beta2 = p.beta2;
  v.keep1 = 1 - p.beta1;
  v.keep2 = 1 - p.beta2;
  v.m = pair(rec.state[first], t);
  v.m_prev = buffer(rec, first, t - 1);
  if (rec.state[second]) {
    v.v = pair(rec.state[second], t);
    v.v_prev = buffer(rec, second, t - 1);
  }
  v.bc1 = 1 - p.beta1 ** v.t;
  v.bc2 = 1 - p.beta2 ** v.t;
  v.mhat = scale(1 / v.bc1, v.m);
}

/** AdamW, AMSGrad, NAdam and RAdam (torch's): Adam's numbers plus each one's own. */
function moreAdam(v, rec, p, t) {
  moments(v, rec, p, t);
  const eps = p.eps;
  const step = v.t;
  const adamEff = (second) => {
    v.vhat = scale(1 / v.bc2, second);
    v.eff_hat = each(v.vhat, (x) => v.lr / (Math.sqrt(x) + eps));
    v.eff = each(second, (x) => v.lr / v.bc1 / (Math.sqrt(x) / Math.sqrt(v.bc2) + eps));
  };
  if (v.optimizer === "adamw") {
    v.wd = p.weight_decay;
    v.decayed = scale(1 - v.lr * v.wd, v.theta);
    adamEff(v.v);
    v.terms.push("lr", ...(v.wd ? ["decay"] : []), "m", "v", "bias", "hat", "eff");
    v.terms.push("theta_decayed");
  } else if (v.optimizer === "amsgrad") {
    v.vmax = pair(rec.state.max_exp_avg_sq, t);
    v.vmax_prev = buffer(rec, "max_exp_avg_sq", t - 1);
    adamEff(v.vmax);
    v.terms.push("m", "v", "vmax", "bias", "hat", "eff", "theta");
  } else if (v.optimizer === "nadam") {
    const theta = decoupledDecay(v, p);
    const psi = p.momentum_decay;
    v.mu_t = p.beta1 * (1 - 0.5 * 0.96 ** (step * psi));
    v.mu_next = p.beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi));
    v.mu_product = rec.state.mu_product[2 * t];
    v.denom = each(v.v, (x) => Math.sqrt(x / v.bc2) + eps);
    v.c_g = (v.lr * (1 - v.mu_t)) / (1 - v.mu_product);
    v.c_m = (v.lr * v.mu_next) / (1 - v.mu_product * v.mu_next);
    v.terms.push("lr", ...(v.decayed ? ["decay"] : []), "mu", "m", "v", "denom", "coef", theta);
  } else {
    const theta = decoupledDecay(v, p);
    if (v.decayed) v.terms.push("lr", "decay");
    v.rho_inf = 2 / (1 - p.beta2) - 1;
    v.rho_t = v.rho_inf - (2 * step * p.beta2 ** step) / v.bc2;
    v.terms.push("m", "v", "bias", "mhat", "rho");
    if (v.rho_t > 5) {
      const r = v.rho_t;
      const inf = v.rho_inf;
      v.rect = Math.sqrt(((r - 4) * (r - 2) * inf) / ((inf - 4) * (inf - 2) * r));
      v.eff = each(v.v, (x) => (v.lr * v.rect * Math.sqrt(v.bc2)) / (Math.sqrt(x) + eps));
      v.terms.push("rect", "eff", theta);
    } else v.terms.push(`${theta}_plain`);
  }
}

/** NAdam's and RAdam's decoupled weight decay (decoupled_weight_decay = 1, λ > 0): θ
 * shrinks to θ(1 − ηλ) before the step, as AdamW's does; the key of the θ term that
 * starts from there ("theta_decayed"), else "theta". */
function decoupledDecay(v, p) {
  if (!(p.decoupled_weight_decay && p.weight_decay)) return "theta";
  v.wd = p.weight_decay;
  v.decayed = scale(1 - v.lr * v.wd, v.theta);
  return "theta_decayed";
}

/** Updates known for a run: recorded and with both ends of the step kept. */
export function updatesKnown(run) {
  const rec = run.record;
  if (!rec) return 0;
  return Math.max(0, Math.min(rec.n, run.n - 1));
}

/** The update shown at cursor `c`: the one leaving point c, or at the run's last point
 * (which no update leaves) the one that arrived there; −1 when none is known. */
export function updateAt(run, c) {
  return Math.min(c, updatesKnown(run) - 1);
}

/** A buffer's value after update t (torch's state then), or its start before update 0. */
function buffer(rec, name, t, start = [0, 0]) {
  if (t < 0) return start;
  return pair(rec.state[name], t);
}

/**
 * Every number of update t of `run`, by the slot names of app/equations.py's terms:
 * scalars (t, lr, mu, …) and (x, y) vectors (g, m, theta, step, …), plus `terms`, the keys
 * of the terms that apply (the first update's b ← g, RMSprop's with or without momentum).
 * null when update t is not known (past the end, not recorded, or the run diverged there).
 */
export function updateValues(run, t) {
  const rec = run.record;
  if (!rec || !Number.isInteger(t) || t < 0 || t >= updatesKnown(run)) return null;
  const p = run.params;
  const g = pair(rec.grads, t);
  const theta = [run.xs[t], run.ys[t]];
  const thetaNext = [run.xs[t + 1], run.ys[t + 1]];
  if (!finite(g) || !finite(theta) || !finite(thetaNext)) return null;
  const step = t + 1; // torch's state["step"] after this update
  const v = {
    optimizer: run.optimizer,
    update: t,
    t: step,
    g,
    g2: [g[0] * g[0], g[1] * g[1]],
    lr: rec.lrs[t],
    theta,
    theta_next: thetaNext,
    step: [thetaNext[0] - theta[0], thetaNext[1] - theta[1]],
    terms: ["g"],
  };
  const momentum = momentumName(rec);
  const eps = p.eps;
  switch (run.optimizer) {
    case "sgd":
      v.terms.push("lr", "theta");
      break;
    case "momentum":
    case "nag": {
      v.terms.push("lr");
      if (momentum) {
        v.mu = p.momentum;
        v.keep = 1 - (p.dampening ?? 0);
        v.b = buffer(rec, momentum, t);
        if (t === 0) v.terms.push("b_first");
        else {
          v.b_prev = buffer(rec, momentum, t - 1);
          v.terms.push("b");
        }
        if (run.optimizer === "momentum") {
          v.v = scale(-v.lr, v.b);
          v.terms.push("v", "theta");
        } else v.terms.push("theta");
      } else v.terms.push("sgd");
      break;
    }
    case "adagrad": {
      const h0 = p.initial_accumulator_value ?? 0;
      v.h = pair(rec.state.sum, t);
      v.h_prev = buffer(rec, "sum", t - 1, [h0, h0]);
      v.base_lr = v.lr;
      v.lr = v.lr / (1 + (step - 1) * (p.lr_decay ?? 0));
      v.eff = each(v.h, (h) => v.lr / (Math.sqrt(h) + eps));
      v.terms.push("h", "lr", "eff", "theta");
      break;
    }
    case "rmsprop": {
      v.alpha = p.alpha;
      v.keep = 1 - p.alpha;
      v.h = pair(rec.state.square_avg, t);
      v.h_prev = buffer(rec, "square_avg", t - 1);
      // centered: the spread √(h − ḡ²) in place of √h, ḡ the average of g (grad_avg)
      const gbar = rec.state.grad_avg ? pair(rec.state.grad_avg, t) : null;
      const spread = (i) => (gbar ? v.h[i] - gbar[i] * gbar[i] : v.h[i]);
      const denom = [0, 1].map((i) => Math.sqrt(spread(i)) + eps);
      v.eff = [v.lr / denom[0], v.lr / denom[1]];
      if (gbar) {
        v.gbar = gbar;
        v.gbar_prev = buffer(rec, "grad_avg", t - 1);
        v.terms.push("h", "gbar", "eff_centered");
      } else v.terms.push("h", "eff");
      if (momentum) {
        v.mu = p.momentum;
        v.scaled = [g[0] / denom[0], g[1] / denom[1]];
        v.b = buffer(rec, momentum, t);
        v.b_prev = buffer(rec, momentum, t - 1);
        v.terms.push("b", "theta_b");
      } else v.terms.push("theta");
      break;
    }
    case "adam": {
      moments(v, rec, p, t);
      v.vhat = scale(1 / v.bc2, v.v);
      v.eff_hat = each(v.vhat, (x) => v.lr / (Math.sqrt(x) + eps));
      // The number torch multiplies m by: η/(1 − β₁ᵗ) / (√v/√(1 − β₂ᵗ) + ε).
      v.eff = each(v.v, (x) => v.lr / v.bc1 / (Math.sqrt(x) / Math.sqrt(v.bc2) + eps));
      v.terms.push("m", "v", "bias", "hat", "eff", "theta");
      break;
    }
    case "adamw":
    case "amsgrad":
    case "nadam":
    case "radam":
      moreAdam(v, rec, p, t);
      break;
    case "adamax": {
      moments(v, rec, p, t);
      v.u = pair(rec.state.exp_inf, t);
      v.u_prev = buffer(rec, "exp_inf", t - 1);
      v.absg = each(g, (x) => Math.abs(x) + eps);
      v.eff = each(v.u, (u) => v.lr / v.bc1 / u);
      v.terms.push("m", "u", "eff", "theta");
      break;
    }
    case "adadelta": {
      v.rho = p.rho;
      v.keep = 1 - p.rho;
      v.h = pair(rec.state.square_avg, t);
      v.h_prev = buffer(rec, "square_avg", t - 1);
      v.s = pair(rec.state.acc_delta, t);
      v.s_prev = buffer(rec, "acc_delta", t - 1);
      v.scale = [0, 1].map((i) => Math.sqrt(v.s_prev[i] + eps) / Math.sqrt(v.h[i] + eps));
      v.delta = [v.scale[0] * g[0], v.scale[1] * g[1]];
      v.delta2 = each(v.delta, (d) => d * d);
      v.terms.push("h", "delta", "s", "theta");
      break;
    }
    case "adafactor": {
      // torch's Adafactor on the 2-vector: ρₜ, αₜ from RMS(θ), v, u = g/√v, the clip
      v.rho_t = Math.min(v.lr, 1 / Math.sqrt(step));
      v.alpha_t = Math.max(p.eps2, Math.hypot(...theta) / Math.SQRT2) * v.rho_t;
      v.weight = step ** p.beta2_decay;
      v.v = pair(rec.state.variance, t);
      v.u = [0, 1].map((i) => g[i] / Math.sqrt(Math.max(v.v[i], p.eps1 * p.eps1)));
      v.clip = Math.max(1, Math.hypot(...v.u) / (Math.SQRT2 * p.d));
      v.decayed = scale(1 - v.lr * p.weight_decay, theta);
      v.terms.push("rho", "alpha", "v", "u", "clip");
      if (p.weight_decay) v.terms.push("decay");
      v.terms.push("theta");
      break;
    }
    case "rprop": {
      const prev = buffer(rec, "prev", t - 1);
      v.flip = [0, 1].map((i) => Math.sign(g[i] * prev[i]) || 0);
      v.step_size = pair(rec.state.step_size, t);
      v.sign = [0, 1].map((i) => (v.flip[i] < 0 ? 0 : Math.sign(g[i]) || 0));
      v.terms.push("factor", "delta", "sign", "theta");
      break;
    }
    case "lion": {
      v.beta1 = p.beta1;
      v.beta2 = p.beta2;
      v.keep1 = 1 - p.beta1;
      v.keep2 = 1 - p.beta2;
      v.m = pair(rec.state.mu, t);
      v.m_prev = buffer(rec, "mu", t - 1);
      v.c = add(scale(v.keep1, g), scale(v.beta1, v.m_prev));
      v.sign = each(v.c, Math.sign);
      v.wd = p.weight_decay;
      v.terms.push("lr", "c", "sign", v.wd ? "theta_wd" : "theta", "m");
      break;
    }
    case "lars": {
      v.mu = p.momentum;
      v.wd = p.weight_decay;
      v.terms.push("lr");
      if (v.wd) v.terms.push("u");
      trust(v, v.wd ? add(g, scale(v.wd, theta)) : g, p.trust_coefficient, p.eps);
      v.b = pair(rec.state.trace, t);
      v.b_prev = buffer(rec, "trace", t - 1);
      v.terms.push("b", "theta");
      break;
    }
    case "lamb": {
      moments(v, rec, p, t, "mu", "nu");
      v.vhat = scale(1 / v.bc2, v.v);
      v.adam = [0, 1].map((i) => v.mhat[i] / (Math.sqrt(v.vhat[i]) + eps));
      v.wd = p.weight_decay;
      v.terms.push("lr", "m", "v", "bias", "hat", v.wd ? "u_wd" : "u");
      trust(v, v.wd ? add(v.adam, scale(v.wd, theta)) : v.adam, 1, 0);
      v.terms.push("theta");
      break;
    }
    default:
      v.terms.push("theta");
  }
  v.terms.push("step");
  if (momentum) {
    v.momentum = scale(STEP_BUFFERS.has(momentum) ? 1 : -1, buffer(rec, momentum, t));
  }
  return v;
}

/** Whether the effective-learning-rate chart applies: the adaptive methods whose step
 * is a per-axis rate times a buffer (m, or g). */
export const ADAPTIVE = new Set(["adagrad", "rmsprop", "adam", "adamw", "amsgrad", "adamax"]);

/** The buffer each adaptive method divides by (AMSGrad: the running maximum of v). */
const DENOMINATOR = {
  adam: "exp_avg_sq",
  adamw: "exp_avg_sq",
  amsgrad: "max_exp_avg_sq",
  adamax: "exp_inf",
  rmsprop: "square_avg",
  adagrad: "sum",
};
const ADAM_LIKE = new Set(["adam", "adamw", "amsgrad"]);

/**
 * The per-axis effective learning rate of every known update, {x, y} Float64Arrays (NaN
 * where unknown): Adam and AdamW η/(1 − β₁ᵗ)/(√v/√(1 − β₂ᵗ) + ε) (AMSGrad with v_max),
 * Adamax η/(1 − β₁ᵗ)/u, RMSprop η/(√h + ε) (centered: √(h − ḡ²)), AdaGrad
 * ηₜ/(√h + ε) with ηₜ = η/(1 + (t − 1)·lr_decay); t = update + 1, η the update's rate.
 * null for a non-adaptive or unrecorded run.
 */
export function effectiveLr(run) {
  const rec = run.record;
  if (!rec || !ADAPTIVE.has(run.optimizer)) return null;
  const n = updatesKnown(run);
  const size = rec.lrs.length;
  const x = new Float64Array(size).fill(Number.NaN);
  const y = new Float64Array(size).fill(Number.NaN);
  const p = run.params;
  const eps = p.eps;
  const acc = rec.state[DENOMINATOR[run.optimizer]];
  if (!acc) return null;
  const mean = rec.state.grad_avg; // centered RMSprop: √(h − ḡ²) in place of √h
  const spread = (i) => (mean ? acc[i] - mean[i] * mean[i] : acc[i]);
  for (let t = 0; t < n; t += 1) {
    const step = t + 1;
    let lr = rec.lrs[t];
    let root = 1; // √(1 − β₂ᵗ) for Adam, AdamW and AMSGrad
    if (ADAM_LIKE.has(run.optimizer) || run.optimizer === "adamax") {
      lr /= 1 - p.beta1 ** step;
      if (run.optimizer !== "adamax") root = Math.sqrt(1 - p.beta2 ** step);
    } else if (run.optimizer === "adagrad") {
      lr /= 1 + (step - 1) * (p.lr_decay ?? 0);
    }
    if (run.optimizer === "adamax") {
      x[t] = lr / acc[2 * t]; // η/(1 − β₁ᵗ)/u: u already holds |g| + ε
      y[t] = lr / acc[2 * t + 1];
      continue;
    }
    x[t] = lr / (Math.sqrt(spread(2 * t)) / root + eps);
    y[t] = lr / (Math.sqrt(spread(2 * t + 1)) / root + eps);
  }
  return { x, y, n };
}

/**
 * The arrows of update t of a run, in data units before any scaling: the negative
 * gradient −g, the negated momentum buffer (−b, or −m for Adam, Lion and LAMB; LARS's
 * trace +b, already a step) and the step Δθ, each
 * from θₜ. Empty when update t is not known.
 */
export function arrowsAt(run, t) {
  const v = updateValues(run, t);
  if (!v) return [];
  const arrows = [{ kind: "grad", vec: scale(-1, v.g) }];
  if (v.momentum) arrows.push({ kind: "momentum", vec: v.momentum });
  arrows.push({ kind: "step", vec: v.step });
  return arrows.map((a) => ({
    ...a,
    optimizer: run.optimizer,
    update: t,
    from: v.theta,
    length: Math.hypot(a.vec[0], a.vec[1]),
  }));
}

/**
 * A typical length of each arrow kind over a run's known updates (the 90th percentile, so
 * one huge first gradient does not shrink every later arrow to nothing); the arrows of a
 * kind share one scale, so their lengths compare across steps and runs. Cached per run.
 */
export function typicalLengths(run) {
  const n = updatesKnown(run);
  run.views ??= {};
  const hit = run.views.typical;
  if (hit && hit.n === n) return hit.lengths;
  const rec = run.record;
  const momentum = momentumName(rec);
  const lists = { grad: [], momentum: [], step: [] };
  for (let t = 0; t < n; t += 1) {
    const g = Math.hypot(rec.grads[2 * t], rec.grads[2 * t + 1]);
    if (Number.isFinite(g)) lists.grad.push(g);
    if (momentum) {
      const b = Math.hypot(rec.state[momentum][2 * t], rec.state[momentum][2 * t + 1]);
      if (Number.isFinite(b)) lists.momentum.push(b);
    }
    const s = Math.hypot(run.xs[t + 1] - run.xs[t], run.ys[t + 1] - run.ys[t]);
    if (Number.isFinite(s)) lists.step.push(s);
  }
  const lengths = {};
  for (const [kind, list] of Object.entries(lists)) {
    if (!list.length) continue;
    list.sort((a, b) => a - b);
    lengths[kind] = list[Math.min(list.length - 1, Math.floor(0.9 * list.length))];
  }
  run.views.typical = { n, lengths };
  return lengths;
}

/** Add a vector to a point (for the step animation: θₜ + f·Δθ). */
export const along = (from, vec, f) => add(from, scale(f, vec));
