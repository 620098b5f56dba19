/** GroupComparer widget: a metric per group with intervals, disparities, score distributions, what-if. */
import { toFloat64, toUint32, toUint8 } from "./lib/buffers";
import { h, positiveClassNote } from "./lib/dom";
import { formatCount, formatInterval, formatMetric, formatPercent } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

export const METRICS: [string, string][] = [
  ["selection_rate", "selection rate"],
  ["base_rate", "base rate"],
  ["accuracy", "accuracy"],
  ["precision", "precision"],
  ["recall", "recall (TPR)"],
  ["fpr", "false positive rate"],
  ["fnr", "false negative rate"],
  ["f1", "F1"],
  ["mean_score", "mean score"],
  ["ece", "calibration error (ECE)"],
];
const DISPARITIES: [string, string][] = [
  ["demographic_parity_difference", "Demographic parity difference"],
  ["disparate_impact", "Disparate impact (ratio)"],
  ["equal_opportunity_difference", "Equal opportunity difference"],
  ["equalized_odds_difference", "Equalized odds difference"],
];
const SUMMARY: [string, string][] = [
  ["demographic_parity_difference", "Demographic parity difference"],
  ["demographic_parity_ratio", "Demographic parity ratio"],
  ["equalized_odds_difference", "Equalized odds difference"],
  ["equal_opportunity_difference", "Equal opportunity difference"],
];

const f64 = (raw: any, key: string): Float64Array => toFloat64(raw?.[key]);

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-groups", role: "region", "aria-label": "Group comparer" });
  el.append(root);
  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };

  const paint = (): void => {
    const hadFocus = root.contains(document.activeElement);
    const focused = (document.activeElement as HTMLElement | null)?.getAttribute?.("data-focus");
    const g = model.get("groups") ?? {};
    const labels: string[] = g.labels ?? [];
    const count = toUint32(g.count);
    const small = toUint8(g.small);
    const metric = String(model.get("metric") ?? "selection_rate");
    const metricName = METRICS.find(([k]) => k === metric)?.[1] ?? metric;
    const isRate = metric !== "mean_score" && metric !== "ece";
    const fmt = (x: number): string => (isRate ? formatPercent(x) : formatMetric(x));
    const [value, low, high] = [f64(g, metric), f64(g, `${metric}_low`), f64(g, `${metric}_high`)];
    const selected = new Set((model.get("selected_groups") ?? []) as number[]);
    const nRows = Number(model.get("n_rows") ?? 0);
    root.setAttribute("data-rows", String(nRows));
    const clause = String(model.get("clause_text") ?? "");
    const filter = String(model.get("filter_text") ?? "");
    const minSize = Number(model.get("min_size") ?? 30);

    const metricSelect = h("select", { "aria-label": "Metric", "data-focus": "metric" });
    for (const [k, name] of METRICS) if (g[k]) metricSelect.append(h("option", { value: k, text: name }));
    metricSelect.value = metric;
    metricSelect.addEventListener("change", () => setTrait("metric", metricSelect.value));
    const classes = (model.get("class_names") ?? []) as string[];
    const positive = h("select", { "aria-label": "Positive class", "data-focus": "positive" });
    for (const c of classes) positive.append(h("option", { value: c, text: c }));
    positive.value = String(model.get("positive") ?? "");
    positive.addEventListener("change", () => setTrait("positive", positive.value));
    const reference = h("select", { "aria-label": "Reference group", "data-focus": "reference" }, [
      h("option", { value: "", text: "largest group" }),
      h("option", { value: "best", text: "best group" }),
      h("option", { value: "worst", text: "worst group" }),
      ...labels.map((l) => h("option", { value: l, text: l })),
    ]);
    reference.value = String(model.get("reference") ?? "");
    reference.addEventListener("change", () => setTrait("reference", reference.value));

    // bars: the chosen metric per group with its interval
    const maxValue = Math.max(1e-12, ...Array.from(high).filter(Number.isFinite), ...Array.from(value).filter(Number.isFinite));
    const bars = h("ul", { className: "es-group-bars", "aria-label": `${metricName} by group` });
    labels.forEach((label, i) => {
      const button = h("button", {
        type: "button",
        "aria-pressed": String(selected.has(i)),
        "aria-label": `${label}: ${formatCount(count[i]!)} rows, ${metricName} ${fmt(value[i]!)}${small[i] ? ", small group" : ""}`,
        "data-focus": `group-${i}`,
        title: `${label}: 95% interval ${fmt(low[i]!)} to ${fmt(high[i]!)}`,
      }, [
        h("span", { className: "es-group-label", text: label }),
        h("span", { className: "es-muted", text: `${formatCount(count[i]!)}${small[i] ? ` · small (<${minSize})` : ""}` }),
      ]);
      button.addEventListener("click", (e) => model.send({ type: "select_group", index: i, additive: e.shiftKey || e.ctrlKey || e.metaKey }));
      const track = h("span", { className: "es-track", "aria-hidden": "true" }, [h("span", { className: "es-fill" }), h("span", { className: "es-ci" })]);
      const v = value[i]!;
      (track.children[0] as HTMLElement).style.width = `${(100 * (Number.isFinite(v) ? v : 0)) / maxValue}%`;
      const ci = track.children[1] as HTMLElement;
      ci.style.left = `${(100 * (Number.isFinite(low[i]!) ? low[i]! : 0)) / maxValue}%`;
      ci.style.width = `${(100 * Math.max(0, (high[i] ?? 0) - (low[i] ?? 0))) / maxValue || 0}%`;
      bars.append(h("li", { className: small[i] ? "es-small" : "" }, [button, track, h("span", { className: "es-num", text: formatInterval(v, low[i]!, high[i]!, fmt) })]));
    });

    // disparity summary across groups, and per group against the reference
    const summaryValues = (model.get("summary_values") ?? {}) as Record<string, number>;
    const summaryList = h("table", { className: "es-summary", role: "table", "aria-label": "Disparities across groups" }, [
      h("thead", {}, [h("tr", {}, SUMMARY.map(([, name]) => h("th", { scope: "col", text: name })))]),
      h("tbody", {}, [h("tr", {}, SUMMARY.map(([k]) => {
        const x = summaryValues[k] ?? NaN;
        const flag = k === "demographic_parity_ratio" && x < 0.8;
        return h("td", { className: flag ? "es-flag" : "", text: `${formatMetric(x)}${flag ? " (below four-fifths)" : ""}` });
      }))]),
    ]);
    const d = model.get("disparity") ?? {};
    const refIndex = Number(d.reference ?? 0);
    const fourFifths = toUint8(d.four_fifths);
    const dispTable = h("table", { className: "es-table", role: "table", "aria-label": `Disparities against ${labels[refIndex] ?? "the reference"}` }, [
      h("thead", {}, [h("tr", {}, ["group", ...DISPARITIES.map(([, n]) => n)].map((t) => h("th", { scope: "col", text: t })))]),
      h("tbody", {}, labels.map((label, i) =>
        h("tr", { className: i === refIndex ? "es-reference" : "" }, [
          h("th", { scope: "row", text: i === refIndex ? `${label} (reference)` : label }),
          ...DISPARITIES.map(([k]) => {
            const [x, lo, hi] = [f64(d, k)[i]!, f64(d, `${k}_low`)[i]!, f64(d, `${k}_high`)[i]!];
            const flagged = k === "disparate_impact" && fourFifths[i] === 1;
            return h("td", { className: `es-num${flagged ? " es-flag" : ""}`, text: `${formatInterval(x, lo, hi, formatMetric)}${flagged ? " ⚠ <4/5" : ""}` });
          }),
        ]),
      )),
    ]);

    // an outcome-defined filter (an error cell, a tag, a score bin): rank groups by lift
    const outcome = String(model.get("outcome_filter") ?? "");
    let liftSection: HTMLElement | null = null;
    if (outcome) {
      const lt = model.get("lift_table") ?? {};
      const [ofFilter, ofAll, lift, liftLow, liftHigh] = [f64(lt, "share_of_filter"), f64(lt, "share_of_all"), f64(lt, "lift"), f64(lt, "lift_low"), f64(lt, "lift_high")];
      const order = labels.map((_, i) => i).sort((a, b) => (Number.isFinite(lift[b]!) ? lift[b]! : -1) - (Number.isFinite(lift[a]!) ? lift[a]! : -1));
      const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");
      liftSection = h("section", { className: "es-lift", "aria-label": "Groups by lift" }, [
        h("p", { className: "es-note", role: "note", text: `The selection is defined by the outcome (${outcome}), so each group's rates follow from it. Groups are ranked by lift: their share of these rows against their share of all rows.` }),
        h("div", { className: "es-scroll" }, [
          h("table", { className: "es-table", role: "table", "aria-label": "Lift by group" }, [
            h("thead", {}, [h("tr", {}, ["group", "share of these rows", "share of all rows", "lift (95% interval)"].map((t) => h("th", { scope: "col", text: t })))]),
            h("tbody", {}, order.map((i) => h("tr", {}, [
              h("th", { scope: "row", text: labels[i]! }),
              h("td", { className: "es-num", text: formatPercent(ofFilter[i]!) }),
              h("td", { className: "es-num", text: formatPercent(ofAll[i]!) }),
              h("td", { className: "es-num", text: formatInterval(lift[i]!, liftLow[i]!, liftHigh[i]!, times) }),
            ]))),
          ]),
        ]),
      ]);
    }

    // score distributions: one small histogram per group, median marked
    const dist = model.get("distributions") ?? {};
    const hist = toUint32(dist.hist);
    const nBins = Number(dist.bins ?? 20);
    const median = f64(dist, "median");
    const distributions = hist.length
      ? h("ul", { className: "es-dists", "aria-label": "Score distributions by group" }, labels.map((label, i) => {
          const row = Array.from(hist.slice(i * nBins, (i + 1) * nBins));
          const peak = Math.max(1, ...row);
          const svgNs = "http://www.w3.org/2000/svg";
          const svg = document.createElementNS(svgNs, "svg");
          svg.setAttribute("viewBox", `0 0 ${nBins} 10`);
          svg.setAttribute("preserveAspectRatio", "none");
          svg.setAttribute("aria-hidden", "true");
          row.forEach((c, b) => {
            const rect = document.createElementNS(svgNs, "rect");
            rect.setAttribute("x", String(b + 0.05));
            rect.setAttribute("width", "0.9");
            rect.setAttribute("y", String(10 - (10 * c) / peak));
            rect.setAttribute("height", String((10 * c) / peak));
            svg.append(rect);
          });
          const m = median[i]!;
          if (Number.isFinite(m)) {
            const line = document.createElementNS(svgNs, "line");
            line.setAttribute("x1", String(m * nBins));
            line.setAttribute("x2", String(m * nBins));
            line.setAttribute("y1", "0");
            line.setAttribute("y2", "10");
            line.setAttribute("class", "es-median");
            svg.append(line);
          }
          return h("li", { "aria-label": `${label}: median score ${formatMetric(m)}` }, [h("span", { className: "es-group-label", text: label }), svg, h("span", { className: "es-num", text: `median ${formatMetric(m)}` })]);
        }))
      : null;

    // representation against the reference shares, when given
    const rep = model.get("representation_table") ?? {};
    const share = f64(rep, "share");
    const refShare = f64(rep, "reference_share");
    const representation = rep.given
      ? h("table", { className: "es-table", role: "table", "aria-label": "Representation" }, [
          h("thead", {}, [h("tr", {}, ["group", "share of rows", "expected", "ratio"].map((t) => h("th", { scope: "col", text: t })))]),
          h("tbody", {}, labels.map((label, i) => h("tr", {}, [
            h("th", { scope: "row", text: label }),
            h("td", { className: "es-num", text: formatPercent(share[i]!) }),
            h("td", { className: "es-num", text: formatPercent(refShare[i]!) }),
            h("td", { className: "es-num", text: formatMetric(share[i]! / refShare[i]!) }),
          ]))),
          h("caption", { text: `chi-square goodness of fit p = ${formatMetric(Number(rep.p_value ?? NaN))}` }),
        ])
      : null;

    // what-if thresholds per group (binary scores only): nothing changes until the user applies it in code
    let whatIf: HTMLElement | null = null;
    if (model.get("can_threshold")) {
      const thresholds = (model.get("thresholds") ?? {}) as Record<string, number>;
      const w = model.get("what_if") ?? {};
      const [sel, tpr, fpr] = [f64(w, "selection_rate"), f64(w, "recall"), f64(w, "fpr")];
      const body = labels.map((label, i) => {
        const input = h("input", { type: "number", min: 0, max: 1, step: 0.01, "aria-label": `Threshold for ${label}`, "data-focus": `threshold-${i}` });
        input.value = thresholds[label] === undefined ? "" : String(thresholds[label]);
        input.placeholder = "model's";
        input.addEventListener("change", () => {
          const next = { ...((model.get("thresholds") ?? {}) as Record<string, number>) };
          const x = Number(input.value);
          if (input.value === "" || !Number.isFinite(x)) delete next[label];
          else next[label] = Math.min(1, Math.max(0, x));
          setTrait("thresholds", next);
        });
        return h("tr", {}, [
          h("th", { scope: "row", text: label }),
          h("td", {}, [input]),
          h("td", { className: "es-num", text: sel.length ? formatPercent(sel[i]!) : "–" }),
          h("td", { className: "es-num", text: tpr.length ? formatPercent(tpr[i]!) : "–" }),
          h("td", { className: "es-num", text: fpr.length ? formatPercent(fpr[i]!) : "–" }),
        ]);
      });
      const ws = (w.summary ?? {}) as Record<string, number>;
      whatIf = h("details", { className: "es-whatif" }, [
        h("summary", { text: "What if each group had its own threshold?" }),
        h("div", { className: "es-scroll" }, [
          h("table", { className: "es-table", role: "table", "aria-label": "Per-group thresholds" }, [
            h("thead", {}, [h("tr", {}, ["group", "threshold", "selection rate", "TPR", "FPR"].map((t) => h("th", { scope: "col", text: t })))]),
            h("tbody", {}, body),
          ]),
        ]),
        h("p", { className: "es-muted", text: w.summary ? `Demographic parity difference ${formatMetric(ws.demographic_parity_difference ?? NaN)}, equalized odds difference ${formatMetric(ws.equalized_odds_difference ?? NaN)} (the model and the other views are unchanged)` : "Set a threshold for a group to see the effect; the model and the other views are unchanged." }),
      ]);
      (whatIf as HTMLDetailsElement).open = Object.keys(thresholds).length > 0;
    }

    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Group comparer" }),
        h("span", { text: `${labels.length} groups of ${((model.get("group_columns") ?? []) as string[]).join(" × ")} · ${formatCount(nRows)} rows` }),
        filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
        clause
          ? h("span", { className: "es-chip" }, [h("span", { text: clause }), h("button", { type: "button", "aria-label": "Clear group comparer selection", text: "×" })])
          : null,
      ]),
      h("div", { className: "es-toolbar" }, [
        h("label", {}, ["Metric ", metricSelect]),
        classes.length > 2 ? h("label", {}, ["Positive class ", positive]) : positiveClassNote(String(model.get("positive") ?? "")),
        h("label", {}, ["Reference ", reference]),
        h("span", { className: "es-muted", "data-testid": "reference", text: `disparities against ${String(model.get("reference_label") ?? "")}` }),
      ]),
      ...(liftSection ? [liftSection] : []),
      bars,
      h("div", { className: "es-scroll" }, [summaryList]),
      h("div", { className: "es-scroll" }, [dispTable]),
      ...[distributions, representation && h("div", { className: "es-scroll" }, [representation]), whatIf].filter((x): x is HTMLElement => !!x),
    );
    root.querySelector(".es-chip button")?.addEventListener("click", () => model.send({ type: "clear" }));
    if (hadFocus && focused) root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  };
  return mountView(
    model,
    root,
    ["groups", "metric", "positive", "class_names", "reference", "disparity", "summary_values", "distributions", "representation_table", "selected_groups", "thresholds", "what_if", "can_threshold", "n_rows", "clause_text", "filter_text", "group_columns", "min_size", "reference_label", "outcome_filter", "lift_table"],
    paint,
  );
}

export default { render };
