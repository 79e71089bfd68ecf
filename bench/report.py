"""The markdown report of a bench run: a table per scenario, the baseline beside it, and
the targets marked met or not met. Figures are medians over the repeated runs."""

from __future__ import annotations

import statistics
from typing import Any

from bench.stats import fmt_ms

Runs = list[dict[str, Any]]


def med(runs: Runs, *path: str) -> float | None:
    vals = []
    for r in runs:
        v: Any = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, int | float):
            vals.append(float(v))
    return statistics.median(vals) if vals else None


def n(v: float | None, digits: int = 0, unit: str = "") -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}{unit}"


def ms(runs: Runs, *path: str) -> str:
    return fmt_ms(med(runs, *path))


def find(results: dict[str, Runs], prefix: str) -> tuple[str, Runs] | None:
    for k, v in results.items():
        if k.startswith(prefix):
            return k, v
    return None


def ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "–"
    return f"{a / b:.1f}×"


def checks_ok(runs: Runs) -> bool:
    return all(c["ok"] for r in runs for c in r.get("checks", []))


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def runs_note(runs: Runs) -> str:
    k = len(runs)
    return f"median of {k} runs" if k > 1 else "1 run"


def brainstorm_rows(app: Runs, base: Runs | None) -> list[list[str]]:
    rows = []

    def lat(label: str, key: str) -> None:
        for q in ("p50", "p95", "p99", "max"):
            a = med(app, key, q)
            b = med(base, key, q) if base else None
            rows.append([f"{label} {q}", fmt_ms(a), fmt_ms(b), ratio(a, b)])

    lat("send → ack", "ack_ms")
    lat("send → wall", "wall_ms")
    lat("send → last phone", "last_phone_ms")
    for q in ("p50", "p99"):
        a = med(app, "phone_ms", q)
        b = med(base, "phone_ms", q) if base else None
        rows.append([f"send → each phone {q}", fmt_ms(a), fmt_ms(b), ratio(a, b)])

    def fig(label: str, *path: str, digits: int = 0, unit: str = "") -> None:
        a = med(app, *path)
        b = med(base, *path) if base else None
        rows.append([label, n(a, digits, unit), n(b, digits, unit), ratio(a, b)])

    fig("notes acked", "notes_acked")
    fig("phone deliveries", "deliveries")
    fig("missing deliveries (phones+wall+facilitator)", "missing_phone_deliveries")
    fig("frames received by clients /s", "frames_per_s")
    fig("server CPU per frame received", "server_us_per_frame", digits=1, unit=" µs")
    fig("load generator CPU per frame received", "loadgen_us_per_frame", digits=1, unit=" µs")
    fig("server CPU mean (% of a core)", "server", "cpu_mean", unit=" %")
    fig("server CPU max (% of a core)", "server", "cpu_max", unit=" %")
    fig("server RSS peak", "server", "rss_peak_mb", unit=" MB")
    fig("idle memory per connection", "idle_kb_per_conn", digits=1, unit=" KB")
    fig("server CPU while all sockets idle", "idle_cpu_pct", digits=1, unit=" %")
    fig("Redis CPU mean", "redis_cpu_mean", unit=" %")
    fig("load generator CPU mean (all workers)", "loadgen", "cpu_mean", unit=" %")
    fig("other processes on the machine, CPU mean (noise)", "other_cpu_mean", unit=" %")
    fig("setup: joins per second", "setup_joins_per_s")
    return rows


def markdown(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    res: dict[str, Runs] = doc["results"]
    lines = [
        "# Samenspel benchmark results", "",
        f"- date: {meta['date']}, git {meta.get('git', '')}",
        f"- machine: {meta['nproc']} × {meta['cpu']}, {meta['memory_gib']:.1f} GiB, "
        f"Python {meta['python']}, {meta['os']}",
        f"- redis: {meta['redis']}",
        f"- command: `{meta['command']}` ({meta['elapsed_s']:.0f} s)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"- load generator: {meta['args']['workers']} processes, on the same machine",
        "",
    ]
    targets: list[list[str]] = []

    def target(name: str, ok: bool | None, figure: str) -> None:
        targets.append([name, "–" if ok is None else ("met" if ok else "**not met**"), figure])

    # ---------------------------------------------------------- brainstorm
    app = find(res, "brainstorm/")
    base = find(res, "baseline/brainstorm/")
    if app or base:
        a_runs = app[1] if app else []
        b_runs = base[1] if base else None
        any_r = (a_runs or b_runs or [{}])[0]
        lines += [f"## Brainstorm: {any_r.get('participants')} participants, one room, "
                  f"{any_r.get('rate')} notes/s for {any_r.get('duration')} s", "",
                  f"Samenspel: `{app[0] if app else '–'}` ({runs_note(a_runs)}); baseline: "
                  f"`{base[0] if base else '–'}` ({runs_note(b_runs or [])}).", ""]
        lines += table(["figure", "Samenspel", "baseline", "ratio"],
                       brainstorm_rows(a_runs, b_runs))
        if app:
            wall99 = med(a_runs, "wall_ms", "p99")
            last99 = med(a_runs, "last_phone_ms", "p99")
            b99 = med(b_runs, "last_phone_ms", "p99") if b_runs else None
            bw99 = med(b_runs, "wall_ms", "p99") if b_runs else None
            size = any_r.get("participants")
            target(f"brainstorm N={size}: p99 to wall < 150 ms",
                   None if wall99 is None else wall99 < 150, fmt_ms(wall99))
            target(f"brainstorm N={size}: p99 to last phone < 500 ms",
                   None if last99 is None else last99 < 500, fmt_ms(last99))
            target(f"brainstorm N={size}: every note delivered", checks_ok(a_runs),
                   f"{n(med(a_runs, 'missing_phone_deliveries'))} missing of "
                   f"{n(med(a_runs, 'deliveries_expected'))}")
            if b99 and last99:
                target("brainstorm: p99 within 3× baseline (last phone; wall)",
                       last99 <= 3 * b99 and (wall99 or 0) <= 3 * (bw99 or 1e9),
                       f"last phone {last99 / b99:.1f}×, wall "
                       f"{ratio(wall99, bw99)}")
            target(f"idle memory ≤ 25 KB per connection (N={size})",
                   None if med(a_runs, "idle_kb_per_conn") is None
                   else (med(a_runs, "idle_kb_per_conn") or 0) <= 25,
                   n(med(a_runs, "idle_kb_per_conn"), 1, " KB"))
            joins = med(a_runs, "setup_joins_per_s")
            target(f"joins ≥ 1,000 per second (setup of N={size})",
                   None if joins is None else joins >= 1000, n(joins, unit="/s"))

    # --------------------------------------------------------------- hall
    found = find(res, "hall/")
    if found:
        key, runs = found
        r0 = runs[0]
        lines += [f"## A bigger hall: {r0.get('participants')} phones over "
                  f"{key.split('/')[1][1:]} processes, {r0.get('rate')} notes/s for "
                  f"{r0.get('duration')} s", "", f"`{key}` ({runs_note(runs)}).", ""]
        lines += table(["figure", "Samenspel"], [r[:2] for r in brainstorm_rows(runs, None)])
        wall99, last99 = med(runs, "wall_ms", "p99"), med(runs, "last_phone_ms", "p99")
        target(f"hall N={r0.get('participants')}: p99 to wall < 150 ms",
               None if wall99 is None else wall99 < 150, fmt_ms(wall99))
        target(f"hall N={r0.get('participants')}: p99 to last phone < 1 s",
               None if last99 is None else last99 < 1000, fmt_ms(last99))
        target("hall: every note delivered", checks_ok(runs),
               f"{n(med(runs, 'missing_phone_deliveries'))} missing of "
               f"{n(med(runs, 'deliveries_expected'))}")

    # --------------------------------------------------------------- votes
    for prefix, title in (("votes/", "Vote storm (as fast as they can)"),
                          ("human/", "Vote, human pace")):
        found = find(res, prefix)
        if not found:
            continue
        key, runs = found
        r0 = runs[0]
        lines += [f"## {title}: {r0.get('participants')} participants × {r0.get('dots')} dots"
                  + (f" over {r0.get('spread_s')} s" if r0.get("spread_s") else ""), "",
                  f"`{key}` ({runs_note(runs)}).", ""]
        rows = [
            ["dots sent / acked", f"{n(med(runs, 'votes_sent'))} / "
                                  f"{n(med(runs, 'votes_acked'))}"],
            ["ack p50 / p95 / p99 / max", " / ".join(ms(runs, "ack_ms", q)
                                                     for q in ("p50", "p95", "p99", "max"))],
            ["votes applied per second", n(med(runs, "votes_per_s"))],
            ["sending took", n(med(runs, "send_window_s"), 2, " s")],
            ["last ack after last sent", n(med(runs, "applied_after_last_sent_s"), 2, " s")],
            ["wall shows every voter, after last sent",
             n(med(runs, "wall_all_voters_after_last_sent_s"), 2, " s")],
            ["facilitator totals (sum) / acked", f"{n(med(runs, 'totals_sum'))} / "
                                                 f"{n(med(runs, 'dots_acked_in_all'))}"],
            ["ballots over budget (Redis)", n(med(runs, "over_budget"))],
            ["6th dot refused", f"{n(med(runs, 'probes_refused'))} / {n(med(runs, 'probes'))}"],
            ["6th dot acked instead of a retried one", n(med(runs, "reordered_by_retry"))],
            ["server CPU mean / max", f"{n(med(runs, 'server', 'cpu_mean'))} % / "
                                      f"{n(med(runs, 'server', 'cpu_max'))} %"],
            ["Redis CPU mean", n(med(runs, "redis_cpu_mean"), unit=" %")],
            ["ops answered try_again and sent again (as the phones do, after 3 s)",
             n(med(runs, "retries", "try_again") or 0)],
            ["other processes on the machine, CPU mean (noise)",
             n(med(runs, "other_cpu_mean"), unit=" %")],
        ]
        if prefix != "votes/":
            rows = [r for r in rows if not r[0].startswith("wall shows")]
        lines += table(["figure", "value"], rows)
        size = r0.get("participants")
        if prefix == "votes/":
            after = med(runs, "applied_after_last_sent_s")
            target(f"vote storm N={size}×5: all applied within 1 s of the last sent",
                   None if after is None else after <= 1.0, n(after, 2, " s"))
            target("vote storm: zero lost, zero over budget", checks_ok(runs),
                   f"acked {n(med(runs, 'votes_acked'))}, over budget "
                   f"{n(med(runs, 'over_budget'))}")
        else:
            p99 = med(runs, "ack_ms", "p99")
            target("human pace: p99 ack < 100 ms", None if p99 is None else p99 < 100,
                   fmt_ms(p99))

    # ----------------------------------------------------------- reconnect
    found = find(res, "reconnect/")
    if found:
        key, runs = found
        r0 = runs[0]
        lines += [f"## Reconnect storm: {r0.get('participants')} phones drop and reconnect "
                  "with `since` at once", "", f"`{key}` ({runs_note(runs)}).", ""]
        rows = [
            ["resynced / failed / retried", f"{n(med(runs, 'resynced'))} / "
             f"{n(med(runs, 'failed'))} / {n(med(runs, 'retried'))}"],
            ["by replay / by snapshot",
             f"{n((med(runs, 'resynced') or 0) - (med(runs, 'snapshots') or 0))}"
             f" / {n(med(runs, 'snapshots'))}"],
            ["resync p50 / p95 / p99", " / ".join(ms(runs, "resync_ms", q)
                                                  for q in ("p50", "p95", "p99"))],
            ["all resynced after", n(med(runs, "all_resynced_s"), 2, " s")],
            ["server RSS idle before / peak", f"{n(med(runs, 'rss_idle_mb'))} MB / "
             f"{n(med(runs, 'server', 'rss_peak_mb'))} MB"],
            ["server CPU mean / max", f"{n(med(runs, 'server', 'cpu_mean'))} % / "
                                      f"{n(med(runs, 'server', 'cpu_max'))} %"],
            ["other processes on the machine, CPU mean (noise)",
             n(med(runs, "other_cpu_mean"), unit=" %")],
        ]
        lines += table(["figure", "value"], rows)
        t = med(runs, "all_resynced_s")
        target(f"reconnect storm {r0.get('participants')}: all resynced within 10 s",
               None if t is None else (t <= 10 and checks_ok(runs)), n(t, 2, " s"))

    # ---------------------------------------------------------------- join
    found = find(res, "join/")
    if found:
        key, runs = found
        r0 = runs[0]
        lines += [f"## Join storm: {r0.get('participants')} new phones within "
                  f"{r0.get('window_s')} s", "", f"`{key}` ({runs_note(runs)}).", ""]
        rows = [
            ["joined / failed", f"{n(med(runs, 'joined'))} / {n(med(runs, 'failed'))}"],
            ["connect+hello → welcome p50 / p95 / p99 / max",
             " / ".join(ms(runs, "join_ms", q) for q in ("p50", "p95", "p99", "max"))],
            ["last welcome after start", n(med(runs, "last_joined_s"), 2, " s")],
            ["wall shows the full count after start", n(med(runs, "wall_count_at_s"), 2, " s")],
            ["server CPU mean / max", f"{n(med(runs, 'server', 'cpu_mean'))} % / "
                                      f"{n(med(runs, 'server', 'cpu_max'))} %"],
            ["server RSS peak", n(med(runs, "server", "rss_peak_mb"), unit=" MB")],
            ["phones that had to try again", n(med(runs, "retried"))],
            ["other processes on the machine, CPU mean (noise)",
             n(med(runs, "other_cpu_mean"), unit=" %")],
        ]
        lines += table(["figure", "value"], rows)

    # --------------------------------------------------------------- rooms
    found = find(res, "rooms/")
    if found:
        key, runs = found
        base = find(res, "baseline/rooms/")
        r0 = runs[0]
        lines += [f"## Many rooms: {r0.get('rooms')} rooms × "
                  f"{(r0.get('participants') or 0) // max(1, r0.get('rooms') or 1)} "
                  f"participants, {r0.get('rate')} notes/s in all", "",
                  f"`{key}` ({runs_note(runs)}); baseline: the same rooms on the bare "
                  "broadcast server.", ""]
        lines += table(["figure", "Samenspel", "baseline", "ratio"],
                       brainstorm_rows(runs, base[1] if base else None))

    # --------------------------------------------------------------- scale
    scale = {k: v for k, v in res.items() if k.startswith("scale/")}
    if scale:
        sizes = sorted({int(k.rsplit("/n", 1)[1]) for k in scale})
        kinds = sorted({k.split("/")[1] for k in scale}, key=lambda s: (s == "baseline", s))
        r0 = next(iter(scale.values()))[0]
        lines += [f"## Participants vs p99, by server processes ({r0.get('rate')} notes/s, "
                  f"{r0.get('duration')} s each)", "",
                  "Each cell: p99 send → wall / send → last phone (server CPU mean, "
                  "% of one core, all processes).", ""]
        rows = []
        for size in sizes:
            row = [str(size)]
            for kind in kinds:
                runs = scale.get(f"scale/{kind}/n{size}")
                if not runs:
                    row.append("–")
                    continue
                bad = "" if checks_ok(runs) else " ✗"
                row.append(f"{ms(runs, 'wall_ms', 'p99')} / {ms(runs, 'last_phone_ms', 'p99')}"
                           f" ({n(med(runs, 'server', 'cpu_mean'))} %){bad}")
            rows.append(row)
        lines += table(["participants", *[("1 process" if k == "p1" else f"{k[1:]} processes")
                                          if k != "baseline" else "baseline" for k in kinds]],
                       rows)

    if targets:
        lines += ["## Targets", "", *table(["target", "status", "figure"], targets)]

    def failures(base: bool) -> list[tuple[str, dict[str, Any]]]:
        return [(k, c) for k, runs in res.items() if ("baseline" in k) == base
                for r in runs for c in r.get("checks", []) if not c["ok"]]

    failed = failures(False)
    lines += ["## Correctness checks", ""]
    total = sum(len(r.get("checks", [])) for k, runs in res.items() if "baseline" not in k
                for r in runs)
    if failed:
        lines += [f"{len(failed)} of {total} checks failed:", ""]
        lines += [f"- `{k}`: {c['check']}: {c['detail']}" for k, c in failed]
    else:
        lines += [f"All {total} checks passed (every note delivered once and in order, "
                  "totals equal acked dots, nobody over budget, every phone resynced)."]
    base_failed = failures(True)
    if base_failed:
        lines += ["", "The baseline did not keep up everywhere (not counted as a failure):", ""]
        lines += [f"- `{k}`: {c['check']}: {c['detail']}" for k, c in base_failed]
    return "\n".join(lines) + "\n"
