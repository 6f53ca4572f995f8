// upline dashboard: distributor live view, admin overview and admin read-only lookup.
// Plain ES module, no build step. uPlot is loaded as a classic deferred script before this
// module runs (both are deferred, so document order holds) and is read from window.uPlot.

const TOKEN_KEY = 'upline.token';
const MAX_LINES = 50;
const WINDOW_SECONDS = 300; // admin charts show the last 5 minutes
const RING_CAPACITY = 600; // headroom over 300 samples in case the server ticks faster
const LOOKUP_POLL_MS = 2000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_NOT_ENROLLED = 4404; // valid distributor token, but no such distributor (yet)

const EARNING_TYPES = [
  ['unilevel', 'Unilevel'],
  ['fast_start', 'Fast start'],
  ['binary', 'Binary'],
  ['matching', 'Matching'],
  ['rank_bonus', 'Rank bonus'],
  ['pool', 'Pool'],
  ['incentive', 'Incentive'],
];
const TYPE_LABELS = new Map([...EARNING_TYPES, ['withdrawal', 'Withdrawal']]);

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------
// Formatting

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rateFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/**
 * Cents → "$1,234.56". The amount is split with integer math and handed to Intl as an exact
 * decimal string, so no binary-float rounding can ever show up (Intl accepts decimal strings;
 * engines that predate that still parse it as a Number, which is exact to 2^53 cents / 100).
 */
function formatCents(cents) {
  const c = Math.trunc(Number(cents) || 0);
  const abs = Math.abs(c);
  const whole = Math.trunc(abs / 100);
  const frac = String(abs % 100).padStart(2, '0');
  return usd.format(`${c < 0 ? '-' : ''}${whole}.${frac}`);
}

function formatSignedCents(cents) {
  return (cents > 0 ? '+' : '') + formatCents(cents);
}

function formatInt(n) {
  return Number.isFinite(n) ? intFmt.format(n) : '–';
}

function formatMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function typeLabel(type) {
  return TYPE_LABELS.get(type) ?? String(type).replace(/_/g, ' ');
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------------------------------------------------------------------------------------
// Token handling

/** A distributor token is `d.<id>.<mac>`; anything else is treated as admin by the server. */
function parseToken(token) {
  const m = /^d\.(\d+)\.(.+)$/.exec(token);
  return m ? { role: 'distributor', id: Number(m[1]) } : { role: 'admin', id: null };
}

/** Takes `?token=` out of the address bar (so it is not bookmarked or shared) and keeps it. */
function takeTokenFromUrl() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  if (token.trim()) storeToken(token.trim());
}

function loadToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return memoryToken; // storage can be disabled (private mode, policies)
  }
}

let memoryToken = null;
function storeToken(token) {
  memoryToken = token;
  try {
    if (token === null) localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* fall back to the in-memory copy */
  }
}

class Unauthorized extends Error {}
class NotFound extends Error {}

async function fetchSnapshot(token, id, signal) {
  const res = await fetch(`/v1/distributors/${encodeURIComponent(id)}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    cache: 'no-store',
    signal,
  });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 404) throw new NotFound();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

// ---------------------------------------------------------------------------------------
// Connection indicator

const STATUS_TEXT = {
  idle: 'Offline',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

function setStatus(state, detail) {
  const node = $('status');
  node.hidden = state === 'hidden';
  if (node.hidden) return;
  node.dataset.state = state;
  node.querySelector('.status-label').textContent = detail ?? STATUS_TEXT[state] ?? state;
}

// ---------------------------------------------------------------------------------------
// Live socket with reconnect

/**
 * Keeps one WebSocket to /v1/live open, reconnecting with jittered exponential backoff.
 * Close code 4401 means the token was refused; it is final. A browser cannot see the HTTP
 * status of a refused upgrade (it only reports 1006), so when a socket dies before its first
 * message we ask `probe()` over plain HTTP whether the token is still good.
 */
class LiveSocket {
  constructor(token, { onMessage, onUnauthorized, onNotEnrolled, probe }) {
    this.token = token;
    this.onMessage = onMessage;
    this.onUnauthorized = onUnauthorized;
    this.onNotEnrolled = onNotEnrolled;
    this.probe = probe;
    this.attempt = 0;
    this.ws = null;
    this.timer = 0;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onerror = null;
      this.ws.close(1000);
      this.ws = null;
    }
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/v1/live?token=${encodeURIComponent(this.token)}`;
    setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let gotMessage = false;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (!gotMessage) {
        gotMessage = true;
        this.attempt = 0; // only a socket that delivered data counts as healthy
        setStatus('live');
      }
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // ignore a malformed frame rather than tearing the view down
      }
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === CLOSE_UNAUTHORIZED) {
        this.onUnauthorized();
        return;
      }
      if (ev.code === CLOSE_NOT_ENROLLED) {
        // The token is good and enrolment may still arrive: keep retrying with backoff.
        this.onNotEnrolled?.();
        this.scheduleReconnect(false);
        return;
      }
      this.scheduleReconnect(!gotMessage);
    };
  }

  async scheduleReconnect(neverOpened) {
    setStatus('reconnecting');
    if (neverOpened && this.probe) {
      try {
        await this.probe();
      } catch (err) {
        if (err instanceof Unauthorized) {
          if (!this.stopped) this.onUnauthorized();
          return;
        }
        // any other failure (server down, 404) just means "try again later"
      }
      if (this.stopped) return;
    }
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter spreads reconnect storms
    this.attempt += 1;
    const seconds = Math.ceil(delay / 1000);
    setStatus('reconnecting', seconds > 1 ? `Reconnecting in ${seconds}s` : 'Reconnecting…');
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

// ---------------------------------------------------------------------------------------
// Test ids

const DIST_TEST_IDS = [
  ['balance', 'balance'],
  ['rank', 'rank'],
  ['lines', 'lines'],
];
const ADMIN_TEST_IDS = [['kpi-eps', 'events-per-second']];

/**
 * Data-bearing elements get their data-testid only once real data is in them, so a browser
 * test that waits for `[data-testid=balance]` can never read the pre-snapshot placeholder.
 */
function markLoaded(pairs, loaded) {
  for (const [id, testId] of pairs) {
    if (loaded) $(id).dataset.testid = testId;
    else delete $(id).dataset.testid;
  }
}

// ---------------------------------------------------------------------------------------
// Distributor view (one instance; used live for distributors and polled for admin lookups)

class DistributorView {
  constructor() {
    this.seq = -1;
    this.cents = null;
    this.lines = []; // newest first, at most MAX_LINES
    this.rowByKey = new Map();
    this.tweenFrame = 0;
    this.flashTimer = 0;
  }

  reset() {
    markLoaded(DIST_TEST_IDS, false);
    this.seq = -1;
    this.cents = null;
    this.lines = [];
    this.rowByKey.clear();
    $('lines').replaceChildren();
    cancelAnimationFrame(this.tweenFrame);
    $('balance').parentElement.classList.remove('ticking');
  }

  /**
   * Full state: a socket snapshot or a polled GET. A socket snapshot is authoritative (it
   * starts a new stream, even from a server whose ledger was reset); a polled one is
   * dropped if it is older than what is shown, so a slow response cannot roll the view back.
   */
  applySnapshot(snap, { polled = false } = {}) {
    if (polled && snap.seq < this.seq) return;
    const firstRender = this.seq < 0;
    this.seq = snap.seq;
    this.renderDistributor(snap.distributor);
    // New rows are highlighted only when this replaces an earlier view (reconnect, poll).
    this.setLines((snap.lines ?? []).slice(0, MAX_LINES), !firstRender);
    markLoaded(DIST_TEST_IDS, true);
  }

  /** Incremental change after a commit; `lines` arrive oldest first. */
  applyUpdate(upd) {
    if (upd.seq <= this.seq) return; // already covered by a snapshot we hold
    this.seq = upd.seq;
    this.renderDistributor(upd.distributor);
    const incoming = (upd.lines ?? []).slice().reverse();
    this.setLines(incoming.concat(this.lines).slice(0, MAX_LINES), true);
  }

  renderDistributor(d) {
    this.renderBalance(d.balanceCents);
    const chips = [];
    if (d.terminated) chips.push(el('span', 'chip chip-neg', 'Terminated'));
    else if (d.active) chips.push(el('span', 'chip chip-pos', 'Active'));
    else chips.push(el('span', 'chip chip-warn', 'Inactive'));
    chips.push(el('span', 'chip', `Period ${d.period}`));
    chips.push(el('span', 'chip', `Seq ${this.seq}`));
    $('dist-chips').replaceChildren(...chips);
    $('dist-title').textContent = `Distributor #${d.id}`;

    $('rank').textContent = d.paidRankName ?? `Rank ${d.paidRank}`;
    $('title-name').textContent = d.titleName ?? `Rank ${d.title}`;
    this.renderProgress(d);
    this.renderEarnings(d.earningsCents ?? {});

    $('stat-pv').textContent = formatInt(d.pv);
    $('stat-gv').textContent = formatInt(d.gv);
    $('stat-legl').textContent = formatCents(d.legVolumeLCents);
    $('stat-legr').textContent = formatCents(d.legVolumeRCents);
    $('lines-asof').textContent = `as of seq ${this.seq}`;
  }

  renderBalance(cents) {
    const value = $('balance');
    const prev = this.cents;
    this.cents = cents;
    // The settled value is written at once so data-cents/textContent are always current;
    // the ticker on top of it is decoration only.
    value.dataset.cents = String(cents);
    value.textContent = formatCents(cents);
    if (prev === null || prev === cents) return;
    if (viewMode === 'distributor') document.title = `${formatCents(cents)} · upline`;
    this.tween(prev, cents);
    this.flash(cents - prev);
  }

  /** Counts the visible number from `from` to `to` in whole cents over ~0.7 s. */
  tween(from, to) {
    const box = $('balance').parentElement;
    const ticker = $('balance-ticker');
    cancelAnimationFrame(this.tweenFrame);
    if (matchMedia('(prefers-reduced-motion: reduce)').matches) return;
    const start = performance.now();
    const duration = 700;
    box.classList.add('ticking');
    const step = (now) => {
      const t = Math.min(1, (now - start) / duration);
      const eased = 1 - (1 - t) ** 3;
      ticker.textContent = formatCents(Math.round(from + (to - from) * eased));
      if (t < 1) this.tweenFrame = requestAnimationFrame(step);
      else box.classList.remove('ticking');
    };
    this.tweenFrame = requestAnimationFrame(step);
  }

  flash(delta) {
    const card = $('balance-card');
    const badge = $('balance-delta');
    clearTimeout(this.flashTimer);
    card.classList.remove('flash-up', 'flash-down');
    card.classList.add(delta > 0 ? 'flash-up' : 'flash-down');
    badge.textContent = formatSignedCents(delta);
    badge.className = `balance-delta show ${delta > 0 ? 'pos' : 'neg'}`;
    this.flashTimer = setTimeout(() => {
      card.classList.remove('flash-up', 'flash-down');
      badge.classList.remove('show');
    }, 1600);
  }

  renderProgress(d) {
    const next = d.nextRank;
    const caption = $('next-caption');
    const bars = [
      ['prog-pv', d.pv, next?.pv],
      ['prog-gv', d.gv, next?.gv],
      ['prog-legs', d.legs, next?.legs],
    ];
    if (!next) {
      caption.textContent = 'Top rank reached — nothing left to qualify for.';
    } else {
      caption.replaceChildren('Progress to ', el('b', '', next.name ?? `rank ${next.rank}`));
    }
    for (const [id, have, need] of bars) {
      const row = $(id);
      const ratio = need > 0 ? Math.min(1, have / need) : 1;
      row.classList.toggle('done', ratio >= 1);
      row.querySelector('.bar i').style.width = `${(ratio * 100).toFixed(1)}%`;
      row.querySelector('.progress-num').textContent =
        need === undefined ? formatInt(have) : `${formatInt(have)} of ${formatInt(need)}`;
    }
  }

  renderEarnings(earnings) {
    // Known types in a fixed order; types the server adds later still show up at the end.
    const known = EARNING_TYPES.map(([key]) => key);
    const keys = known.concat(Object.keys(earnings).filter((k) => !known.includes(k)));
    const amounts = keys.map((key) => Number(earnings[key] ?? 0));
    const peak = Math.max(1, ...amounts.map(Math.abs));
    let total = 0;
    const items = keys.map((key, i) => {
      const cents = amounts[i];
      total += cents;
      const li = el('li', cents < 0 ? 'neg' : '');
      li.append(
        el('span', '', typeLabel(key)),
        el('span', cents === 0 ? 'amt zero' : 'amt', formatCents(cents)),
      );
      const bar = el('div', 'bar');
      const fill = el('i');
      fill.style.width = `${((Math.abs(cents) / peak) * 100).toFixed(1)}%`;
      bar.append(fill);
      li.append(bar);
      return li;
    });
    const sum = el('li', 'total');
    sum.append(el('span', '', 'Total'), el('span', 'amt', formatCents(total)));
    items.push(sum);
    $('earnings').replaceChildren(...items);
    $('stat-earned').textContent = formatCents(total);
  }

  /**
   * Reconciles the table with `next` (newest first). Existing rows are reused so a row's
   * highlight animation is not restarted by later updates; only unseen rows get `.fresh`.
   */
  setLines(next, highlight) {
    const seen = new Set();
    const unique = [];
    for (const line of next) {
      const key = `${line.seq}:${line.ordinal}`;
      if (seen.has(key)) continue; // a reconnect can replay a line we already hold
      seen.add(key);
      unique.push(line);
    }
    this.lines = unique;
    const rows = unique.map((line) => {
      const key = `${line.seq}:${line.ordinal}`;
      let tr = this.rowByKey.get(key);
      if (!tr) {
        tr = this.buildRow(line);
        if (highlight) tr.classList.add('fresh');
        this.rowByKey.set(key, tr);
      }
      return tr;
    });
    for (const key of this.rowByKey.keys()) {
      if (!seen.has(key)) this.rowByKey.delete(key);
    }
    $('lines').replaceChildren(...rows);
    $('lines-empty').hidden = rows.length > 0;
  }

  buildRow(line) {
    const tr = el('tr');
    const type = el('span', `type type-${line.type}`, typeLabel(line.type));
    const typeCell = el('td', 'type-cell');
    typeCell.append(type);
    const amount = Number(line.amountCents);
    const amountClass = amount > 0 ? 'pos' : amount < 0 ? 'neg' : '';
    // `.none` marks empty cells so the phone layout (rows become two-line cards) can drop them.
    const cell = (cls, value, text) =>
      value == null ? el('td', `${cls} none`, '–') : el('td', cls, text ?? String(value));
    tr.append(
      el('td', 'num seq', String(line.seq)),
      typeCell,
      cell('num level', line.level),
      cell('num from', line.source, `#${line.source}`),
      cell('order', line.order),
      el('td', `num amt ${amountClass}`, formatSignedCents(amount)),
    );
    tr.addEventListener('animationend', () => tr.classList.remove('fresh'), { once: true });
    return tr;
  }
}

// ---------------------------------------------------------------------------------------
// Admin charts

/** Fixed-capacity ring of samples [t, ...values]; old samples fall off the back. */
class Ring {
  constructor(capacity, width) {
    this.capacity = capacity;
    this.cols = Array.from({ length: width }, () => new Float64Array(capacity));
    this.start = 0;
    this.size = 0;
  }

  push(row) {
    const at = (this.start + this.size) % this.capacity;
    row.forEach((v, i) => (this.cols[i][at] = v));
    if (this.size < this.capacity) this.size += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Columns in time order, limited to samples newer than `since` (uPlot's AlignedData). */
  columns(since) {
    const out = this.cols.map(() => []);
    for (let i = 0; i < this.size; i++) {
      const at = (this.start + i) % this.capacity;
      if (this.cols[0][at] < since) continue;
      // uPlot draws null as a gap; NaN (a missing sample) would poison the y range.
      this.cols.forEach((col, c) => out[c].push(Number.isNaN(col[at]) ? null : col[at]));
    }
    return out;
  }
}

// uPlot's default time axis adds a date line under the first tick; a 5-minute window only
// needs the clock, and a short 24-hour "21:50" still fits one label a minute on a phone.
const clockFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
function formatClock(seconds) {
  return clockFmt.format(seconds * 1000);
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function withAlpha(color, alpha) {
  // Accent colours are 6-digit hex in the stylesheet; anything else is used unchanged.
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

class LiveChart {
  constructor(container, series, ring, formatValue) {
    this.container = container;
    this.series = series; // [{ label, colorVar, fill }]
    this.ring = ring;
    this.formatValue = formatValue;
    this.plot = null;
    this.latest = 0;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(container);
    this.placeholder = el('div', 'chart-empty', 'Collecting samples…');
    container.append(this.placeholder);
  }

  build() {
    if (!window.uPlot) {
      this.placeholder.textContent = 'Charts unavailable (uPlot did not load).';
      return;
    }
    this.plot?.destroy();
    const axisColor = cssVar('--muted');
    const gridColor = cssVar('--border');
    const axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { show: false },
      font: '11px system-ui, sans-serif',
    };
    const { width, height } = this.size();
    this.plot = new window.uPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { y: false, points: { size: 6 } },
        padding: [8, 18, 0, 0], // room for the last clock label at the right edge
        scales: {
          // A sliding 5-minute window keyed to the newest sample, so the chart scrolls.
          x: { time: true, range: () => [this.latest - WINDOW_SECONDS, this.latest] },
          y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        axes: [
          {
            ...axis,
            size: 26,
            space: 44,
            incrs: [60, 120, 300], // whole minutes only, so no two ticks read the same
            values: (u, ticks) => ticks.map(formatClock),
          },
          { ...axis, size: 48, values: (u, ticks) => ticks.map((v) => this.formatValue(v)) },
        ],
        series: [
          {},
          ...this.series.map((s) => {
            const color = cssVar(s.colorVar);
            return {
              label: s.label,
              stroke: color,
              width: 2,
              fill: s.fill ? withAlpha(color, 0.12) : undefined,
              points: { show: false },
            };
          }),
        ],
      },
      this.data(),
      this.container,
    );
  }

  size() {
    const { clientWidth, clientHeight } = this.container;
    return { width: Math.max(200, clientWidth), height: clientHeight };
  }

  data() {
    return this.ring.columns(this.latest - WINDOW_SECONDS);
  }

  update(latest) {
    this.latest = latest;
    if (!this.plot) this.build();
    this.placeholder.hidden = this.ring.size >= 2;
    this.plot?.setData(this.data());
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  destroy() {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.container.replaceChildren();
  }
}

// ---------------------------------------------------------------------------------------
// Sessions: one per token; tearing it down stops every socket and timer it started.

let viewMode = null; // 'distributor' | 'admin' | null
let session = null;
const distView = new DistributorView();

function showOnly(section) {
  for (const id of ['signin', 'loading', 'admin', 'dist']) $(id).hidden = !section.includes(id);
}

function showSignIn(message) {
  session?.stop();
  session = null;
  viewMode = null;
  document.title = 'upline';
  showOnly(['signin']);
  setStatus('hidden');
  $('signout').hidden = true;
  $('who').hidden = true;
  const error = $('signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('signin-submit').disabled = false;
  $('signin-token').focus();
}

function rejectToken() {
  storeToken(null);
  showSignIn('Token not accepted. Check it and try again.');
}

function startSession(token) {
  session?.stop();
  const who = parseToken(token);
  viewMode = who.role;
  distView.reset();
  $('signout').hidden = false;
  $('who').hidden = false;
  $('signin-error').hidden = true;
  session = who.role === 'distributor' ? distributorSession(token, who.id) : adminSession(token);
}

function distributorSession(token, id) {
  $('who').textContent = `Distributor #${id}`;
  $('dist-close').hidden = true;
  // Nothing to show until the first snapshot: a blank balance would read as "$0.00".
  showOnly(['loading']);
  $('loading-text').textContent = 'Connecting to the live feed…';
  const live = new LiveSocket(token, {
    onUnauthorized: rejectToken,
    onNotEnrolled: () => {
      if (!$('loading').hidden) {
        $('loading-text').textContent =
          `Distributor #${id} is not enrolled yet. This page opens as soon as it is.`;
      }
    },
    // The probe's snapshot is shown too, so a network that blocks WebSockets still gets
    // a fresh (if not live) view at every retry.
    probe: async () => {
      distView.applySnapshot(await fetchSnapshot(token, id), { polled: true });
      showOnly(['dist']);
    },
    onMessage: (msg) => {
      if (msg.type === 'snapshot') {
        distView.applySnapshot(msg);
        showOnly(['dist']);
      } else if (msg.type === 'update') {
        distView.applyUpdate(msg);
      }
    },
  });
  live.start();
  return { stop: () => live.stop() };
}

function adminSession(token) {
  $('who').textContent = 'Admin';
  $('dist-close').hidden = false;
  markLoaded(ADMIN_TEST_IDS, false);
  for (const node of document.querySelectorAll('#admin .kpi-value, #admin .card b')) {
    node.textContent = '–'; // nothing from a previous session may linger
  }
  $('admin-asof').textContent = 'Waiting for the first sample…';
  showOnly(['admin']);

  const epsRing = new Ring(RING_CAPACITY, 2);
  const latRing = new Ring(RING_CAPACITY, 3);
  let charts = [];
  const makeCharts = () => {
    charts.forEach((c) => c.destroy());
    charts = [
      new LiveChart(
        $('chart-eps'),
        [{ label: 'events/s', colorVar: '--accent', fill: true }],
        epsRing,
        (v) => rateFmt.format(v),
      ),
      new LiveChart(
        $('chart-latency'),
        [
          { label: 'p50', colorVar: '--accent', fill: true },
          { label: 'p99', colorVar: '--accent-2' },
        ],
        latRing,
        (v) => rateFmt.format(v),
      ),
    ];
  };
  makeCharts();
  let lastAt = 0;
  // Chart colours come from CSS variables, so rebuild when the OS theme flips.
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const onScheme = () => {
    makeCharts();
    if (lastAt) charts.forEach((c) => c.update(lastAt));
  };
  scheme.addEventListener('change', onScheme);

  // Redraw at most once per frame: a burst of samples (or a hidden tab, where frames stop)
  // costs one setData instead of one per message.
  let drawFrame = 0;
  const scheduleDraw = () => {
    if (drawFrame) return;
    drawFrame = requestAnimationFrame(() => {
      drawFrame = 0;
      charts.forEach((c) => c.update(lastAt));
    });
  };

  const onAdmin = (m) => {
    const t = m.at / 1000; // uPlot time scales are in seconds
    if (t <= lastAt) return; // out-of-order or replayed sample
    lastAt = t;
    epsRing.push([t, m.eventsPerSecond]);
    latRing.push([t, m.commitLatencyMs?.p50 ?? NaN, m.commitLatencyMs?.p99 ?? NaN]);
    scheduleDraw();
    renderKpis(m);
    markLoaded(ADMIN_TEST_IDS, true);
  };

  const live = new LiveSocket(token, {
    onUnauthorized: rejectToken,
    // Admins have no endpoint of their own; any lookup answers "is this token accepted?".
    probe: () => fetchSnapshot(token, 1),
    onMessage: (msg) => msg.type === 'admin' && onAdmin(msg),
  });
  live.start();

  const lookup = adminLookup(token);
  return {
    stop() {
      live.stop();
      lookup.stop();
      scheme.removeEventListener('change', onScheme);
      cancelAnimationFrame(drawFrame);
      charts.forEach((c) => c.destroy());
    },
  };
}

function renderKpis(m) {
  $('kpi-eps').textContent = rateFmt.format(m.eventsPerSecond);
  $('kpi-distributors').textContent = formatInt(m.distributors);
  $('kpi-period').textContent = formatInt(m.period);
  $('kpi-seq').textContent = formatInt(m.seq);
  $('kpi-queue').textContent = formatInt(m.queueDepth);
  $('kpi-conns').textContent = formatInt(m.liveConnections);
  $('eps-now').textContent = rateFmt.format(m.eventsPerSecond);
  $('p50-now').textContent = formatMs(m.commitLatencyMs?.p50);
  $('p99-now').textContent = formatMs(m.commitLatencyMs?.p99);
  $('tot-accepted').textContent = formatInt(m.acceptedTotal);
  $('tot-dupes').textContent = formatInt(m.duplicatesTotal);
  $('tot-rejected').textContent = formatInt(m.rejectedTotal);
  $('admin-asof').textContent = `Updated ${new Date(m.at).toLocaleTimeString()}`;
}

/** Admin lookup: GET a distributor, then poll every 2 s while the tab is visible. */
function adminLookup(token) {
  let id = null;
  let timer = 0;
  let inflight = null;
  const form = $('lookup-form');
  const input = $('lookup-id');
  const error = $('lookup-error');

  const load = async (showErrors) => {
    if (id === null || inflight) return;
    const want = id;
    inflight = new AbortController();
    try {
      const snap = await fetchSnapshot(token, want, inflight.signal);
      if (want !== id) return; // the admin opened someone else meanwhile
      distView.applySnapshot(snap, { polled: true });
      $('dist').hidden = false;
      error.hidden = true;
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err instanceof Unauthorized) return rejectToken();
      if (!showErrors) return; // a failed background poll keeps the last good view
      error.textContent =
        err instanceof NotFound
          ? `No distributor #${want}.`
          : `Could not load distributor #${want} (${err.message}).`;
      error.hidden = false;
      close();
    } finally {
      inflight = null;
    }
  };

  const open = (wanted) => {
    close();
    id = wanted;
    distView.reset();
    history.replaceState(history.state, '', `#d=${wanted}`);
    load(true);
    timer = setInterval(() => document.hidden || load(false), LOOKUP_POLL_MS);
  };

  function close() {
    clearInterval(timer);
    inflight?.abort();
    inflight = null;
    id = null;
    distView.reset();
    $('dist').hidden = true;
    if (location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  }

  const onSubmit = (ev) => {
    ev.preventDefault();
    const value = input.value.trim().replace(/^#/, '');
    if (!/^\d+$/.test(value)) {
      error.textContent = 'Enter a numeric distributor id.';
      error.hidden = false;
      return;
    }
    error.hidden = true;
    open(Number(value));
  };
  const onClose = () => close();
  form.addEventListener('submit', onSubmit);
  $('dist-close').addEventListener('click', onClose);

  // A lookup survives a reload through the hash (#d=42), without exposing the token.
  const fromHash = /^#d=(\d+)$/.exec(location.hash);
  if (fromHash) {
    input.value = fromHash[1];
    open(Number(fromHash[1]));
  }

  return {
    stop() {
      form.removeEventListener('submit', onSubmit);
      $('dist-close').removeEventListener('click', onClose);
      clearInterval(timer);
      inflight?.abort();
      distView.reset();
      $('dist').hidden = true;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Boot

function boot() {
  takeTokenFromUrl();

  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('signin-token').value.trim();
    if (!token) {
      showSignIn('Paste your access token first.');
      return;
    }
    storeToken(token);
    $('signin-token').value = '';
    startSession(token);
  });

  $('signout').addEventListener('click', (ev) => {
    ev.preventDefault();
    storeToken(null);
    if (location.hash) history.replaceState(history.state, '', location.pathname);
    showSignIn();
  });

  const token = loadToken();
  if (token) startSession(token);
  else showSignIn();
}

boot();
