// The spending page: totals as a table and a bar chart, month by month, and the lines behind
// any bar or total a click away. Everything comes from this service's own API (works offline).
(function () {
  "use strict";
  const form = document.getElementById("filters");
  const root = form.dataset.root || "";
  const SVG = "http://www.w3.org/2000/svg";
  const pounds = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const state = { nextLines: null, linesBase: null };
  window.PlatoonsSpending = state;

  function filterParams() {
    const params = new URLSearchParams();
    for (const name of ["beneficiary", "service", "category", "purpose", "from", "to", "min_amount", "max_amount"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      throw new Error((body.parameter ? body.parameter + ": " : "") + (body.detail || body.title));
    }
    return body;
  }

  function showProblem(error) {
    const problem = document.getElementById("problem");
    problem.textContent = error ? String(error.message || error) : "";
    problem.hidden = !error;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // A bar chart: one row per item, bars proportional to |amount|, negatives in red.
  function barChart(container, items, label, horizontal) {
    container.textContent = "";
    const max = Math.max(1, ...items.map((t) => Math.abs(Number(t.amount))));
    const svg = document.createElementNS(SVG, "svg");
    if (horizontal) {
      const rowHeight = 18, width = 600, labelWidth = 220;
      svg.setAttribute("viewBox", `0 0 ${width} ${items.length * rowHeight + 4}`);
      items.forEach((t, i) => {
        const bar = document.createElementNS(SVG, "rect");
        const length = ((width - labelWidth - 110) * Math.abs(Number(t.amount))) / max;
        bar.setAttribute("x", labelWidth);
        bar.setAttribute("y", i * rowHeight + 2);
        bar.setAttribute("width", Math.max(1, length));
        bar.setAttribute("height", rowHeight - 4);
        bar.setAttribute("class", "bar" + (Number(t.amount) < 0 ? " negative" : ""));
        bar.dataset.key = t.key;
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${label(t)}: £${pounds.format(t.amount)} (${t.lines} lines)`;
        bar.appendChild(title);
        bar.addEventListener("click", () => showLines(t, label(t), bar));
        const name = document.createElementNS(SVG, "text");
        name.setAttribute("x", labelWidth - 4);
        name.setAttribute("y", i * rowHeight + rowHeight - 5);
        name.setAttribute("text-anchor", "end");
        name.textContent = label(t).length > 30 ? label(t).slice(0, 29) + "…" : label(t);
        const value = document.createElementNS(SVG, "text");
        value.setAttribute("x", labelWidth + Math.max(1, length) + 4);
        value.setAttribute("y", i * rowHeight + rowHeight - 5);
        value.textContent = "£" + pounds.format(t.amount);
        svg.append(bar, name, value);
      });
    } else {
      const height = 220, width = 600, base = 180;
      const step = width / Math.max(1, items.length);
      svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      items.forEach((t, i) => {
        const bar = document.createElementNS(SVG, "rect");
        const length = ((base - 10) * Math.abs(Number(t.amount))) / max;
        bar.setAttribute("x", i * step + 1);
        bar.setAttribute("y", base - length);
        bar.setAttribute("width", Math.max(1, step - 2));
        bar.setAttribute("height", Math.max(1, length));
        bar.setAttribute("class", "bar" + (Number(t.amount) < 0 ? " negative" : ""));
        bar.dataset.key = t.key;
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${t.key}: £${pounds.format(t.amount)} (${t.lines} lines)`;
        bar.appendChild(title);
        bar.addEventListener("click", () => showLines(t, t.key, bar));
        svg.appendChild(bar);
        if (items.length <= 24 || i % 3 === 0) {
          const name = document.createElementNS(SVG, "text");
          name.setAttribute("x", i * step + step / 2);
          name.setAttribute("y", base + 14);
          name.setAttribute("text-anchor", "middle");
          name.textContent = t.key.slice(2);
          svg.appendChild(name);
        }
      });
    }
    container.appendChild(svg);
  }

  function renderTotals(body, by) {
    const tbody = document.querySelector("#totals tbody");
    tbody.textContent = "";
    for (const t of body.totals) {
      const row = document.createElement("tr");
      row.dataset.key = t.key;
      const cell = element("td");
      const link = element("button", t[by]);
      link.type = "button";
      link.addEventListener("click", () => showLines(t, t[by], null));
      cell.appendChild(link);
      row.append(cell, element("td", pounds.format(t.amount), "num"), element("td", String(t.lines), "num"));
      tbody.appendChild(row);
    }
    document.getElementById("summary").textContent =
      `${body.lines.toLocaleString("en-GB")} lines, £${pounds.format(body.amount)} in all, ` +
      `${body.groups.toLocaleString("en-GB")} ${by === "beneficiary" ? "beneficiaries" : by === "service" ? "services" : "categories"}.`;
  }

  function renderLines(page, append) {
    const tbody = document.querySelector("#lines tbody");
    if (!append) tbody.textContent = "";
    for (const line of page.lines) {
      const row = document.createElement("tr");
      row.dataset.id = line.id;
      row.append(
        element("td", line.payment_date),
        element("td", line.redacted ? "Redacted" : line.beneficiary_name),
        element("td", line.service),
        element("td", line.purpose || ""),
        element("td", line.category || ""),
        element("td", pounds.format(line.amount), "num"),
        element("td", `${line.source_file}:${line.line_number}`),
      );
      tbody.appendChild(row);
    }
    state.nextLines = page.next_cursor;
    document.getElementById("more").hidden = !page.next_cursor;
    document.getElementById("lines-summary").textContent =
      `${page.matched.toLocaleString("en-GB")} lines adding up to £${pounds.format(page.amount)}; ` +
      `showing ${tbody.rows.length}.`;
  }

  async function showLines(total, name, bar) {
    showProblem(null);
    document.querySelectorAll(".bar.selected").forEach((b) => b.classList.remove("selected"));
    if (bar) bar.classList.add("selected");
    state.linesBase = total.lines_url;
    try {
      const page = await getJson(`${total.lines_url}&limit=50`);
      document.getElementById("lines-section").hidden = false;
      document.getElementById("lines-title").textContent = `Lines behind ${name}`;
      renderLines(page, false);
      state.shown = { key: total.key, matched: page.matched, amount: page.amount };
      document.getElementById("lines-section").dataset.ready = total.key;
    } catch (error) {
      showProblem(error);
    }
  }

  async function more() {
    if (!state.nextLines) return;
    const page = await getJson(`${state.linesBase}&limit=50&cursor=${encodeURIComponent(state.nextLines)}`);
    renderLines(page, true);
  }

  async function refresh() {
    showProblem(null);
    const params = filterParams();
    const by = form.elements.by.value;
    document.getElementById("csv").href = `${root}/spending/lines.csv?${params}`;
    document.getElementById("bars-title").textContent = `Largest totals by ${by}`;
    try {
      const totalsParams = new URLSearchParams(params);
      totalsParams.set("by", by);
      totalsParams.set("limit", "20");
      const monthParams = new URLSearchParams(params);
      monthParams.set("by", "month");
      monthParams.set("order", "key");
      monthParams.set("limit", "1000");
      const [totals, months] = await Promise.all([
        getJson(`${root}/spending/totals?${totalsParams}`),
        getJson(`${root}/spending/totals?${monthParams}`),
      ]);
      renderTotals(totals, by);
      barChart(document.getElementById("bars"), totals.totals, (t) => t[by], true);
      barChart(document.getElementById("months"), months.totals, (t) => t.month, false);
      document.body.dataset.ready = String(Date.now());
    } catch (error) {
      showProblem(error);
      document.body.dataset.ready = String(Date.now());
    }
  }

  // Grant money against need: £ per resident by decile, two sources side by side.
  async function showNeed() {
    const area = document.getElementById("need-area").value.trim();
    const params = new URLSearchParams(area ? { area } : {});
    const container = document.getElementById("need-chart");
    try {
      const body = await getJson(`${root}/grants/need?${params}`);
      container.textContent = "";
      const svg = document.createElementNS(SVG, "svg");
      const width = 600, height = 220, base = 180;
      svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      const values = body.sources.flatMap((s) => s.by_decile.map((d) => Number(d.pounds_per_resident)));
      const max = Math.max(0.01, ...values);
      const step = width / 10;
      body.sources.forEach((source, k) => {
        for (const d of source.by_decile) {
          const bar = document.createElementNS(SVG, "rect");
          const length = ((base - 10) * Number(d.pounds_per_resident)) / max;
          bar.setAttribute("x", (d.decile - 1) * step + 4 + k * (step / 2 - 4));
          bar.setAttribute("y", base - length);
          bar.setAttribute("width", step / 2 - 6);
          bar.setAttribute("height", Math.max(0, length));
          bar.setAttribute("class", "need " + source.source);
          bar.dataset.source = source.source;
          bar.dataset.decile = d.decile;
          const title = document.createElementNS(SVG, "title");
          title.textContent = `${source.label}, decile ${d.decile}: £${d.pounds_per_resident} per resident (£${pounds.format(d.amount)}, ${d.grants} grants)`;
          bar.appendChild(title);
          svg.appendChild(bar);
        }
      });
      for (let decile = 1; decile <= 10; decile++) {
        const label = document.createElementNS(SVG, "text");
        label.setAttribute("x", (decile - 1) * step + step / 2);
        label.setAttribute("y", base + 14);
        label.setAttribute("text-anchor", "middle");
        label.textContent = decile === 1 ? "1 (most deprived)" : String(decile);
        svg.appendChild(label);
      }
      container.appendChild(svg);
      const tbody = document.querySelector("#need-districts tbody");
      tbody.textContent = "";
      for (const source of body.sources) {
        const apart = source.not_by_decile.map((l) => `£${pounds.format(l.amount)} on ${l.level}s`).join(", ");
        for (const d of source.by_district) {
          const row = document.createElement("tr");
          row.dataset.source = source.source;
          row.append(
            element("td", source.source === "imported" ? "Imported (other funders)" : "Platoons' own"),
            element("td", `${d.name || ""} (${d.code})`),
            element("td", pounds.format(d.amount), "num"),
            element("td", d.residents === null ? "" : d.residents.toLocaleString("en-GB"), "num"),
            element("td", d.pounds_per_resident === null ? "" : d.pounds_per_resident, "num"),
            element("td", apart),
          );
          tbody.appendChild(row);
        }
      }
      document.getElementById("need").dataset.ready = String(Date.now());
    } catch (error) {
      showProblem(error);
      document.getElementById("need").dataset.ready = String(Date.now());
    }
  }

  document.getElementById("need-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showNeed();
  });
  showNeed();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  form.elements.by.addEventListener("change", refresh);
  document.getElementById("more").addEventListener("click", more);
  refresh();
})();
