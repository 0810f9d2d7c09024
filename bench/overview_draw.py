"""Benchmark: the overview page on the Somalia store, time until the map and chart are drawn, in Chromium.

    .venv/bin/python bench/overview_draw.py [--runs 5] [--store bench/out/store-somalia] [--no-level2]

The store is built once by examples/somalia/load.sh from ../shared/data (skipped, with a message, when
that folder is absent) and kept in bench/out/. `onthemove serve` runs on it; Debian's Chromium
(/usr/bin/chromium, headless, the flags of tests/web/conftest.py) is driven by Playwright. Each run
opens / in a fresh browser context (empty cache, no session: an anonymous visitor, redacted totals)
and measures, from navigation start:
  ready      body[data-ready=true], which static/overview.js sets once the map and chart are drawn
  frame      the next frame after that (requestAnimationFrame, then a task): the drawing on screen
  paint      first-paint, first-contentful-paint, largest-contentful-paint; navigation timing
  level 2    then the map switched to admin level 2 (districts): from the change until every
             district is drawn and coloured, and the next frame
One warm-up run first (not counted); median and best of the runs are printed. No peer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_hxl import OUT
from serve_concurrency import BIN, free_port, server

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "examples/somalia/load.sh"
CHROMIUM = Path("/usr/bin/chromium")
# the same flags as tests/web/conftest.py (what a closed field network needs)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}

# runs before the page's own scripts: note when data-ready turns true, the frame after, and LCP
INIT_SCRIPT = """
(() => {
  const mark = () => {
    if (window.__readyAt !== undefined || !document.body) return;
    if (document.body.getAttribute("data-ready") !== "true") return;
    window.__readyAt = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__frameAt = performance.now(); }, 0));
  };
  new MutationObserver(mark).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-ready"]});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lcp = e.startTime;
    }).observe({type: "largest-contentful-paint", buffered: true});
  } catch (e) { /* no LCP in this browser */ }
})();
"""

METRICS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = Object.fromEntries(performance.getEntriesByType("paint").map((e) => [e.name, e.startTime]));
  const api = performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/v1/"));
  return {
    ttfb: nav.responseStart, dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    first_paint: paint["first-paint"] ?? null, first_contentful_paint: paint["first-contentful-paint"] ?? null,
    largest_contentful_paint: window.__lcp ?? null,
    last_api_response: Math.max(...api.map((r) => r.responseEnd)),
    ready: window.__readyAt, frame: window.__frameAt,
    regions: document.querySelectorAll("#map path[data-pcode]").length,
    trend_canvas: document.querySelectorAll("#trend canvas").length,
    status: document.getElementById("status").textContent,
  };
}
"""

# every API request the page made (resource timing), read at the end so that level 2's are in
API_CALLS = """
() => performance.getEntriesByType("resource")
  .filter((r) => r.name.includes("/api/v1/"))
  .map((r) => ({url: r.name, start: r.startTime, end: r.responseEnd, duration: r.duration, bytes: r.transferSize}))
"""

# switch the map to admin level 2 and resolve once every district is drawn and coloured, and a frame later
LEVEL2 = """
(n) => new Promise((resolve) => {
  const map = document.getElementById("map");
  const level = document.getElementById("level");
  const drawn = () => {
    const paths = map.querySelectorAll("path[data-pcode]");
    if (paths.length !== n) return false;
    for (const p of paths) if (!p.hasAttribute("data-count")) return false;
    return true;
  };
  let t0 = 0;
  const watch = new MutationObserver(() => {
    if (!drawn()) return;
    watch.disconnect();
    const at = performance.now();
    requestAnimationFrame(() => setTimeout(() => resolve({drawn: at - t0, frame: performance.now() - t0}), 0));
  });
  watch.observe(map, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-count", "data-pcode"]});
  t0 = performance.now();
  level.value = "2";
  level.dispatchEvent(new Event("change"));
})
"""

ROWS = [
    ("ttfb", "first byte of the page (TTFB)"),
    ("dom_content_loaded", "DOMContentLoaded"),
    ("load", "load event"),
    ("first_paint", "first paint"),
    ("first_contentful_paint", "first contentful paint"),
    ("largest_contentful_paint", "largest contentful paint"),
    ("last_api_response", "last API response in"),
    ("ready", "map and chart drawn (data-ready)"),
    ("frame", "next frame after data-ready"),
    ("level2_drawn", "level 2: districts drawn (from the change)"),
    ("level2_frame", "level 2: next frame (from the change)"),
]


def shared_data() -> Path:
    return Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))


def movements_in(store_dir: Path) -> int:
    from onthemove.store import open_store

    if not (store_dir / "onthemove.duckdb").exists():
        return 0
    with open_store(store_dir) as store:
        row = store.fetch_one("SELECT count(*) FROM movements") if store.table_exists("movements") else None
    return int(row[0]) if row else 0


def somalia_store(store_dir: Path) -> tuple[int, float | None] | None:
    """The Somalia store, built by examples/somalia/load.sh unless it is there; None when the data is absent."""
    rows = movements_in(store_dir)
    if rows:
        return rows, None
    data = shared_data()
    if not (data / "somalia").is_dir():
        return None
    partial = store_dir.with_name(store_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log = OUT / "store-somalia-load.log"
    print(f"building the Somalia store with {LOAD.relative_to(ROOT)} (log: {log}) ...", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "SHARED_DATA": str(data), "ONTHEMOVE": str(BIN / "onthemove")}
    with log.open("wb") as out:
        done = subprocess.run(["bash", str(LOAD), str(partial)], stdout=out, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{LOAD.name} failed ({done.returncode}); see {log}")
    shutil.rmtree(store_dir, ignore_errors=True)
    partial.replace(store_dir)
    return movements_in(store_dir), time.perf_counter() - started


def places_with_geometry(base: str, level: int) -> int:
    url = f"{base}/api/v1/places?level={level}&geometry=true"
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.loads(response.read())
    return sum(1 for f in body["features"] if f.get("geometry"))


def one_run(browser: Any, base: str, districts: int | None) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.add_init_script(INIT_SCRIPT)
        page.goto(base + "/")
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        page.wait_for_function("window.__frameAt !== undefined", timeout=30_000)
        metrics: dict[str, Any] = page.evaluate(METRICS)
        if districts:
            level2 = page.evaluate(LEVEL2, districts)
            metrics["level2_drawn"], metrics["level2_frame"] = level2["drawn"], level2["frame"]
        metrics["api"] = page.evaluate(API_CALLS)
        metrics["errors"] = errors
        return metrics
    finally:
        context.close()


def api_name(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    keep = [f"{k}={v}" for k, v in query if k in ("by", "level")]
    dated = " (one month)" if any(k == "from" for k, _ in query) else ""
    return parts.path.removeprefix("/api/v1") + ("?" + "&".join(keep) if keep else "") + dated


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--store", type=Path, default=OUT / "store-somalia")
    ap.add_argument("--no-level2", action="store_true", help="skip switching the map to admin level 2")
    args = ap.parse_args(argv)

    if not CHROMIUM.exists():
        print(f"skipped: no Chromium at {CHROMIUM} (Debian package chromium)")
        return {"skipped": "no chromium"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped: playwright is not installed (a dev dependency)")
        return {"skipped": "no playwright"}
    built = somalia_store(args.store)
    if built is None:
        print(f"skipped: the Somalia data is not at {shared_data()} (set SHARED_DATA, or fetch ../shared/data)")
        return {"skipped": "no data"}
    rows, build_s = built
    if build_s is not None:
        print(f"(built {args.store.name} in {build_s:.0f}s: {rows:,} movements rows; kept in bench/out/)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "onthemove"), "--store", str(args.store), "serve", "--port", str(port)]
    runs: list[dict[str, Any]] = []
    with server(command, f"{base}/api/v1/ready", OUT / "overview_draw_server.log"):
        regions = places_with_geometry(base, 1)
        districts = None if args.no_level2 else places_with_geometry(base, 2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            version = browser.version
            try:
                warm = one_run(browser, base, districts)  # not counted: the server's first queries
                for i in range(args.runs):
                    runs.append(one_run(browser, base, districts))
                    print(f"  run {i + 1}: drawn at {runs[-1]['ready']:.0f} ms", flush=True)
            finally:
                browser.close()

    errors = sorted({e for r in [warm, *runs] for e in r["errors"]})
    print(f"\noverview page on the Somalia store ({rows:,} movements rows), Chromium {version} headless,")
    print(f"{VIEWPORT['width']}x{VIEWPORT['height']}, {os.cpu_count()} CPUs, {args.runs} runs (fresh context each)")
    print(f"anonymous visitor (redacted totals); map: {regions} regions, {districts or '-'} districts with geometry")
    print(f"warm-up run (not counted): drawn at {warm['ready']:.0f} ms")
    print(f"\n{'ms from navigation start':<44} {'median':>8} {'best':>8} {'worst':>8}")
    summary: dict[str, dict[str, float]] = {}
    for key, label in ROWS:
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            continue
        summary[key] = {"median": statistics.median(values), "best": min(values), "worst": max(values)}
        s = summary[key]
        print(f"{label:<44} {s['median']:>8.0f} {s['best']:>8.0f} {s['worst']:>8.0f}")

    calls: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        for call in r["api"]:
            calls.setdefault(api_name(call["url"]), []).append(call)
    print(f"\n{'API requests (median of the runs)':<44} {'ms':>9} {'ends at':>8} {'kB':>7} {'n':>3}")
    for name, found in sorted(calls.items(), key=lambda kv: statistics.median(c["start"] for c in kv[1])):
        duration = statistics.median(c["duration"] for c in found)
        end = statistics.median(c["end"] for c in found)
        kb = statistics.median(c["bytes"] for c in found) / 1024
        print(f"{name:<44} {duration:>9.0f} {end:>8.0f} {kb:>7.0f} {len(found):>3}")
    drawn, canvases = sorted({r["regions"] for r in runs}), sorted({r["trend_canvas"] for r in runs})
    statuses = sorted({r["status"] for r in runs if r["status"]})
    print(f"\nregions drawn on load: {drawn}; trend canvases: {canvases}; status lines: {statuses or 'none'}")
    print(f"page errors: {errors or 'none'}")

    results = {
        "store": str(args.store),
        "movements_rows": rows,
        "chromium": version,
        "cpus": os.cpu_count(),
        "viewport": VIEWPORT,
        "runs": runs,
        "warm_up": warm,
        "summary_ms": summary,
        "regions": regions,
        "districts": districts,
        "errors": errors,
    }
    (OUT / "overview_draw.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("wrote bench/out/overview_draw.json")
    return results


if __name__ == "__main__":
    main()
