// eventyard dashboard: live figures, charts, and the buttons. No dependencies, nothing
// fetched from elsewhere. Text is set with textContent; no HTML is ever built from strings.
(() => {
  "use strict";

  const REFRESH_MS = 3000;
  const HISTORY_KEY = "eventyard-dashboard-history";
  const HISTORY_POINTS = 240; // 12 minutes at one point every 3 s
  const SERIES = 6;
  const SVG = "http://www.w3.org/2000/svg";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  let busy = 0;

  // -- talking to the API ---------------------------------------------------------------

  async function api(method, path, body) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/admin/api" + path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401) {
      window.location.assign("/admin/login");
      throw new Error("logged out");
    }
    if (!response.ok) {
      throw new Error((data && data.message) || response.status + " " + response.statusText);
    }
    return data;
  }

  const enc = encodeURIComponent;

  function notice(text, kind) {
    const element = document.getElementById("notice");
    if (!element) return;
    element.textContent = text || "";
    element.className = "notice" + (kind ? " " + kind : "");
    element.hidden = !text;
  }

  // -- live regions: fetch this page again and swap the parts marked data-live -----------

  async function refresh() {
    if (busy || document.hidden) return;
    const regions = Array.from(document.querySelectorAll("[data-live][id]"));
    if (!regions.length) return;
    let response;
    try {
      response = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { "X-Eventyard-Refresh": "1" },
      });
    } catch (_) {
      return; // the server is away for a moment: keep what is shown
    }
    if (response.redirected && new URL(response.url).pathname === "/admin/login") {
      window.location.assign("/admin/login");
      return;
    }
    if (!response.ok || busy) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of regions) {
      const replacement = fresh.getElementById(region.id);
      if (!replacement) continue;
      const checked = new Set(
        Array.from(region.querySelectorAll("input[type=checkbox]:checked"), (box) => box.value)
      );
      const adopted = document.importNode(replacement, true);
      region.replaceWith(adopted);
      for (const box of adopted.querySelectorAll("input[type=checkbox]")) {
        box.checked = checked.has(box.value);
      }
    }
    selectionChanged();
  }

  // -- selection of messages -------------------------------------------------------------

  function selectedIds() {
    return Array.from(
      document.querySelectorAll('input[name="message"]:checked'),
      (box) => box.value
    );
  }

  function selectionChanged() {
    const ids = selectedIds();
    const label = document.getElementById("selection");
    if (label) label.textContent = ids.length ? ids.length + " selected" : "none selected";
    for (const button of document.querySelectorAll("button[data-needs-selection]")) {
      button.disabled = ids.length === 0;
    }
    const all = document.getElementById("select-all");
    const boxes = document.querySelectorAll('input[name="message"]');
    if (all) all.checked = boxes.length > 0 && ids.length === boxes.length;
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target && target.id === "select-all") {
      for (const box of document.querySelectorAll('input[name="message"]')) {
        box.checked = target.checked;
      }
    }
    selectionChanged();
  });

  // -- the buttons -----------------------------------------------------------------------

  function summarize(results, done) {
    const failed = results.filter((result) => !result.ok);
    if (!failed.length) return [results.length + " " + done, "ok"];
    const reasons = failed.map((result) => result.error + ": " + result.message).join("; ");
    return [(results.length - failed.length) + " " + done + ", " + failed.length + " not: " + reasons, "error"];
  }

  async function followTask(task) {
    const box = document.getElementById("task");
    const bar = box ? box.querySelector("progress") : null;
    const text = box ? box.querySelector(".text") : null;
    if (box) box.hidden = false;
    for (;;) {
      if (bar) {
        bar.max = Math.max(task.to_move, 1);
        bar.value = task.moved;
      }
      if (text) text.textContent = task.status.toLowerCase() + ": " + task.moved + " of " + task.to_move + " moved";
      if (task.status !== "RUNNING" && task.status !== "CANCELLING") return task;
      await new Promise((resolve) => setTimeout(resolve, 400));
      task = await api("GET", "/redrives/" + enc(task.task_id));
    }
  }

  async function act(button) {
    const queue = button.dataset.queue;
    const action = button.dataset.action;
    const ids = button.dataset.message ? [button.dataset.message] : selectedIds();
    const base = "/queues/" + enc(queue);
    if (action === "redrive") {
      const answer = await api("POST", base + "/redrive", { message_ids: ids });
      return summarize(answer.results, "redriven");
    }
    if (action === "delete") {
      if (!window.confirm("Delete " + ids.length + " message(s) from " + queue + "? This cannot be undone.")) {
        return null;
      }
      const results = [];
      for (const id of ids) {
        try {
          await api("DELETE", base + "/messages/" + enc(id));
          results.push({ ok: true });
        } catch (error) {
          results.push({ ok: false, error: "Error", message: error.message });
        }
      }
      return summarize(results, "deleted");
    }
    if (action === "redrive-all") {
      const answer = await api("POST", base + "/redrive", {});
      const task = await followTask(answer.task);
      const kind = task.status === "COMPLETED" ? "ok" : "error";
      return ["redrive " + task.status.toLowerCase() + ": " + task.moved + " moved" +
        (task.failure_reason ? " (" + task.failure_reason + ")" : ""), kind];
    }
    return null;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest ? event.target.closest("button[data-action]") : null;
    if (!button || button.disabled) return;
    event.preventDefault();
    busy += 1;
    button.disabled = true;
    let outcome = null;
    try {
      outcome = await act(button);
    } catch (error) {
      outcome = [error.message, "error"];
    } finally {
      busy -= 1;
      button.disabled = false;
    }
    if (outcome) notice(outcome[0], outcome[1]);
    if (outcome && outcome[1] === "ok" && button.dataset.then) {
      window.location.assign(button.dataset.then);
      return;
    }
    await refresh();
    await sample();
  });

  // -- charts: figures polled from the API, kept for this tab in sessionStorage ----------

  function loadHistory() {
    try {
      const saved = JSON.parse(window.sessionStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (_) {
      return [];
    }
  }

  function saveHistory(history) {
    try {
      window.sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    } catch (_) {
      /* full or disabled: the charts start over next time */
    }
  }

  async function sample() {
    const charts = document.querySelectorAll("[data-chart]");
    if (!charts.length || document.hidden) return;
    let answer;
    try {
      answer = await api("GET", "/queues");
    } catch (_) {
      return;
    }
    const point = { t: Date.now(), sent: 0, deleted: 0, dead: 0, depth: {} };
    for (const queue of answer.queues) {
      point.sent += queue.counters.sent;
      point.deleted += queue.counters.deleted;
      point.dead += queue.counters.dead_lettered;
      point.depth[queue.name] = queue.visible + queue.in_flight + queue.delayed;
    }
    const history = loadHistory().filter((old) => point.t - old.t < HISTORY_POINTS * REFRESH_MS * 2);
    history.push(point);
    while (history.length > HISTORY_POINTS) history.shift();
    saveHistory(history);
    for (const chart of charts) draw(chart, history);
  }

  function throughputSeries(history) {
    const names = [["sent", "sent/s"], ["deleted", "processed/s"], ["dead", "dead-lettered/s"]];
    return names.map(([key, label]) => ({
      label,
      points: history.slice(1).map((point, index) => {
        const before = history[index];
        const seconds = Math.max((point.t - before.t) / 1000, 0.001);
        return [point.t, Math.max(0, (point[key] - before[key]) / seconds)];
      }),
    }));
  }

  function depthSeries(history, wanted) {
    const latest = history[history.length - 1].depth;
    let names = wanted ? wanted.split(",").filter(Boolean) : Object.keys(latest);
    if (!wanted) {
      const peak = (name) => Math.max(...history.map((point) => point.depth[name] || 0));
      names = names.sort((a, b) => peak(b) - peak(a) || a.localeCompare(b)).slice(0, SERIES);
    }
    return names.map((name) => ({
      label: name,
      points: history.filter((point) => name in point.depth).map((point) => [point.t, point.depth[name]]),
    }));
  }

  function niceMax(value) {
    if (value <= 1) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  function svgElement(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    return element;
  }

  function draw(chart, history) {
    const plot = chart.querySelector(".plot");
    const series = chart.dataset.chart === "throughput"
      ? throughputSeries(history)
      : depthSeries(history, chart.dataset.queues);
    const usable = series.filter((line) => line.points.length >= 1);
    if (!usable.length || history.length < 2) {
      const waiting = document.createElement("p");
      waiting.className = "muted";
      waiting.textContent = "collecting figures…";
      plot.replaceChildren(waiting);
      return;
    }
    const width = 600;
    const height = 150;
    const left = 40;
    const bottom = 18;
    const start = history[0].t;
    const end = history[history.length - 1].t;
    const span = Math.max(end - start, 1);
    const top = niceMax(Math.max(...usable.flatMap((line) => line.points.map((p) => p[1]))));
    const x = (t) => left + ((t - start) / span) * (width - left - 6);
    const y = (v) => 6 + (1 - v / top) * (height - bottom - 6);
    const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
    svg.appendChild(svgElement("line", { class: "axis", x1: left, y1: y(0), x2: width, y2: y(0) }));
    svg.appendChild(svgElement("line", { class: "axis", x1: left, y1: y(top), x2: width, y2: y(top) }));
    const label = (text, attributes) => {
      const element = svgElement("text", { class: "tick", ...attributes });
      element.textContent = text;
      svg.appendChild(element);
    };
    const format = (v) => (v >= 10 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1));
    label(format(top), { x: left - 4, y: y(top) + 4, "text-anchor": "end" });
    label("0", { x: left - 4, y: y(0) + 4, "text-anchor": "end" });
    const seconds = Math.max(1, Math.round(span / 1000));
    label("−" + (seconds < 120 ? seconds + " s" : Math.round(seconds / 60) + " min"), { x: left, y: height - 4 });
    label("now", { x: width - 2, y: height - 4, "text-anchor": "end" });
    const legend = document.createElement("div");
    legend.className = "legend";
    usable.forEach((line, index) => {
      const style = "s" + (index % SERIES);
      const points = line.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      const polyline = svgElement("polyline", { class: style, points });
      const title = svgElement("title", {});
      title.textContent = line.label;
      polyline.appendChild(title);
      svg.appendChild(polyline);
      const item = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch " + style;
      const last = line.points[line.points.length - 1][1];
      item.append(swatch, document.createTextNode(line.label + " " + format(last)));
      legend.appendChild(item);
    });
    plot.replaceChildren(svg, legend);
  }

  // -- start -----------------------------------------------------------------------------

  selectionChanged();
  sample();
  window.setInterval(async () => {
    await refresh();
    await sample();
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) sample();
  });
})();
