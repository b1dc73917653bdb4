"""The report of benchmarks/realtime.py: docs/performance.md and its plot, from the run's results."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

Result = dict[str, Any]


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def num(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def who(result: Result) -> str:
    return f"{result['stack']} / {result['server']}"


def summary_text(r: Result) -> str:
    """One line per point, printed as the run goes."""
    head = f"{who(r):<28} {r['kind']:<8} {r.get('members', ''):>6}"
    if "error" in r:
        return f"{head}  ERROR {r['error']}"
    if r["kind"] in ("fan-out", "sweep", "mixed"):
        return (
            f"{head} @{r['rate']:>5g}/s  p50 {ms(r.get('p50_ms')):>6} p99 {ms(r.get('p99_ms')):>6} ms"
            f"  http p50 {ms(r.get('http_p50_ms'))} p99 {ms(r.get('http_p99_ms'))} ms"
            f"  {num(r.get('deliveries_per_s'))} deliv/s  lost {r.get('lost')} dup {r.get('duplicates')}"
            f"  sinks {r.get('sink_frames')}/{r.get('sink_expected')}  cpu {ms(r.get('cpu_ms_per_1000'))} ms/1k"
            f"  gen {r.get('generator_cpu', 0):.0%}  open {r.get('open_seconds', 0):.1f}s fail {r.get('open_failures')}"
            + (f"  shutdown {r['shutdown']}" if "shutdown" in r else "")
        )
    if r["kind"] == "sockets":
        memory = "  ".join(f"{n}: {m['kib_per_socket']:.1f} KiB/socket" for n, m in r.get("memory", {}).items())
        return (
            f"{head} deflate={r['deflate']!s:<5} open {r.get('open_count')} in {r.get('open_seconds', 0):.1f}s"
            f" fail {r.get('open_failures_total')} (listen drops {r.get('listen_overflows')})  {memory}"
            f"  negotiated {r.get('deflate_negotiated')}"
        )
    if r["kind"] == "presence":
        return (
            f"{head} open {r.get('open_seconds', 0):.1f}s, quiet after {r.get('settle_seconds', 0):.1f}s,"
            f" {r.get('presence_frames')} presence frames, server CPU {r.get('server_cpu_seconds', 0):.1f}s"
        )
    if r["kind"] == "waves":
        parts = []
        for part in ("wave", "storm"):
            if part in r:
                d = r[part]
                parts.append(
                    f"{part} {d['sockets']} in {d['seconds']:.1f}s fail {d['failures']}"
                    f" handshake p50 {num(d.get('handshake_p50_s'), 2)} p99 {num(d.get('handshake_p99_s'), 2)} s"
                    f" exact {d['presence']['exact']} (after {d['exact_after_seconds']:.1f}s)"
                    f" offline {d['offline_after']['exact']} cpu {d['server_cpu_seconds']:.1f}s"
                )
        return f"{head} " + "; ".join(parts)
    return head


def table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def stacks(results: list[Result]) -> list[str]:
    """Every stack/server in the run's order."""
    seen: dict[str, None] = {}
    for r in results:
        seen.setdefault(who(r), None)
    return list(seen)


def find(results: list[Result], name: str, kind: str, **match: Any) -> list[Result]:
    return [
        r
        for r in results
        if who(r) == name and r["kind"] == kind and all(r.get(k) == v for k, v in match.items()) and "error" not in r
    ]


def best_sweep(results: list[Result], name: str) -> tuple[Result | None, Result | None]:
    """The sweep step with the most deliveries/s within the limit, and the first step past it."""
    steps = find(results, name, "sweep")
    good = [r for r in steps if r.get("within_limit")]
    bad = [r for r in steps if not r.get("within_limit")]
    best = max(good, key=lambda r: r["deliveries_per_s"]) if good else None
    return best, (bad[0] if bad else None)


def value_at(results: list[Result], name: str | None, kind: str, key: str, **match: Any) -> float | None:
    """One measure of a stack's point of `kind` (the first that matches `match`), or None."""
    point = find(results, name, kind, **match) if name else []
    return point[0].get(key) if point else None


def most_deliveries(results: list[Result], name: str | None) -> float | None:
    """A stack's most deliveries/s within the sweep's limit, or None."""
    best = best_sweep(results, name)[0] if name else None
    return best["deliveries_per_s"] if best else None


def idle_kib(results: list[Result], name: str, count: int) -> float | None:
    """Idle memory per socket at `count` sockets, without deflate, or None."""
    point = find(results, name, "sockets", deflate=False)
    return point[0].get("memory", {}).get(str(count), {}).get("kib_per_socket") if point else None


def why_over(r: Result, limit: float) -> str:
    reasons = []
    if r.get("p99_ms") is None or r["p99_ms"] > limit:
        reasons.append(f"p99 {ms(r.get('p99_ms'))} ms")
    if r.get("lost"):
        reasons.append(f"{r['lost']} lost")
    if r.get("duplicates"):
        reasons.append(f"{r['duplicates']} duplicated")
    if r.get("http_errors"):
        reasons.append(f"refused {r['http_errors']}")
    if r.get("achieved_rate", 0) < 0.9 * r["rate"]:
        reasons.append(f"only {r['achieved_rate']:.0f} msg/s sent")
    if r.get("generator_cpu", 0) > 0.9:
        reasons.append(f"load generator {r['generator_cpu']:.0%} busy")
    return ", ".join(reasons) or "–"


def shutdown_text(shutdown: dict[str, Any] | None) -> str:
    if not shutdown:
        return "–"
    codes = ", ".join(f"{n}× {code}" for code, n in sorted(shutdown["close_codes"].items()))
    exited = (
        f"exited in {shutdown['exit_seconds']:.1f} s" if shutdown["exited"] else "still running after 10 s (killed)"
    )
    last = shutdown.get("last_close_seconds")
    closed = f"last socket closed at {last:.1f} s" if last is not None else "no socket closed"
    return f"{codes}; {closed}; {exited}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.1f}×"


def markdown(results: list[Result], meta: dict[str, Any], picture: str) -> str:
    limit = meta["p99_limit_ms"]
    config = meta["config"]
    names = stacks(results)
    flowchat = [n for n in names if n.startswith("FlowChat")]
    minimal = next((n for n in names if n.startswith("minimal")), None)
    raw = next((n for n in names if n.startswith("raw")), None)
    fan_sizes = sorted({r["members"] for r in results if r["kind"] == "fan-out"})
    out: list[str] = []
    add = out.append

    add("# Real-time performance\n")
    add(
        f"Made by `{meta['command']}`"
        + (f" at commit `{meta['commit']}`" if meta.get("commit") else "")
        + f" on {meta['date']} in {meta['seconds'] / 60:.1f} minutes"
        + (" (**smoke run**: tiny sizes, not a measurement)" if meta["smoke"] else "")
        + ". Every number below comes from that one run; the method is in the docstring of "
        "`benchmarks/realtime.py`."
        + (
            f" (This page was written again from the run's results on {meta['rewritten']}.)"
            if meta.get("rewritten")
            else ""
        )
        + "\n"
    )
    m = meta["machine"]
    add(f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, Linux {m['kernel']}.  ")
    add("**Versions:** " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".  ")
    if meta.get("cpu_steal") is not None:
        add(f"**CPU steal** (time the virtual machine's host gave to others) during the run: {meta['cpu_steal']:.0%}.")
    add("")

    add("## How to read this\n")
    add(
        "Each point starts a fresh server process pinned to core 0; the load generator runs on core 1 "
        "(PostgreSQL and Redis float). *Latency* is the time from the load generator deciding to send a "
        "message (its HTTP POST, including any wait for a free connection) to the frame carrying it "
        "arriving on a socket, measured on about 50 timing observers per point; the other sockets are "
        "raw sinks that only count frames (*sinks* = frames received / expected). A *delivery* is one "
        "message arriving on one socket, so deliveries/s = messages/s × sockets of the chat; the "
        "sender's own tab counts. **FlowChat** is the real app (session-authenticated `/ws/` sockets, "
        "`POST /api/messages/`, pushed HTML); **minimal** is the least a Channels app on the same server "
        "and Redis pub/sub layer can do (one `group_send` per message, the text forwarded); **raw** is "
        "a `websockets` server broadcasting in-process, with no Django, Channels or Redis. The gap "
        "FlowChat → minimal is what FlowChat's own work costs (database, rendering, one publish per "
        "member); minimal → raw is the cost of Django/Channels/Redis. Lost and duplicated deliveries "
        "must be 0 everywhere but in the sweep steps past saturation. *gen* is how busy the load "
        "generator's core was: near 100 % the generator, not the server, is the limit. The machine is "
        "shared, so expect noise of ±20 % or more between runs.\n"
    )
    if meta.get("problems"):
        add(
            "**Problems in this run** (losses, duplicates, failed or unjoined sockets, refused sends; "
            "sweep steps past the limit left out):\n"
        )
        add("\n".join(f"- {problem}" for problem in meta["problems"]) + "\n")

    if flowchat and not meta["smoke"]:
        add(targets_section(results, meta, flowchat, minimal))

    # Fan-out
    add(f"## Fan-out at 1 message/s ({config['fan_sends']} messages per point)\n")
    add("p50 / p99 latency in ms; lost / duplicated deliveries.\n")
    rows = []
    for name in names:
        row = [name]
        for size in fan_sizes:
            point = find(results, name, "fan-out", members=size)
            if point:
                p = point[0]
                row.append(f"{ms(p['p50_ms'])} / {ms(p['p99_ms'])} ({p['lost']}/{p['duplicates']})")
            else:
                row.append("–")
        rows.append(row)
    add(table(["stack / server", *(f"{size:,} sockets" for size in fan_sizes)], rows) + "\n")

    # Throughput
    add(f"## Most deliveries/s with p99 ≤ {limit:.0f} ms ({config['sweep_members']} sockets in one chat)\n")
    add(
        f"Rates swept {', '.join(str(r) for r in config['sweep_rates'])} msg/s, "
        f"{config['sweep_seconds']:g} s each on a fresh server, until p99 passed {limit:.0f} ms (or a loss).\n"
    )
    rows = []
    for name in names:
        best, over = best_sweep(results, name)
        rows.append(
            [
                name,
                num(best["deliveries_per_s"]) if best else "–",
                f"{best['rate']:g}" if best else "–",
                f"{ms(best['p50_ms'])} / {ms(best['p99_ms'])}" if best else "–",
                f"{best['generator_cpu']:.0%}" if best else "–",
                f"{over['rate']:g} msg/s: {why_over(over, limit)}" if over else "not reached",
            ]
        )
    header = ["stack / server", "deliveries/s", "at msg/s", "p50 / p99 ms there", "gen there", "first step past it"]
    add(table(header, rows) + "\n")
    add(
        "Where *gen* is near 100 % the load generator's one core, not the server, set the limit: the "
        "server does at least that much.\n"
    )
    add(f"![p99 latency against deliveries/s]({picture})\n")
    if meta.get("send_profile"):
        add(send_cost_section(results, meta, flowchat, minimal))

    # Mixed
    if any(r["kind"] == "mixed" for r in results):
        add(
            f"## Mixed load: {config['mixed_chats']} chats of {config['mixed_size']} and one of "
            f"{config['mixed_big']}, {config['mixed_rate']} sends/s spread over them\n"
        )
        rows = []
        for name in flowchat:
            for p in find(results, name, "mixed"):
                refused = sum(p.get("http_errors", {}).values())
                rows.append(
                    [
                        name,
                        f"{ms(p['p50_ms'])} / {ms(p['p99_ms'])}",
                        num(p["deliveries_per_s"]),
                        f"{p['sent']} / {refused}",
                        f"{p['lost']} / {p['duplicates']}",
                        f"{ms(p['http_p50_ms'])} / {ms(p['http_p99_ms'])}",
                        num(p.get("pg_connections")),
                    ]
                )
        header = ["stack / server", "p50 / p99 ms", "deliveries/s", "sent / refused", "lost / dup"]
        header += ["send p50 / p99 ms", "PG connections"]
        add(table(header, rows) + "\n")
        add(
            "Latency is over the sends the server accepted. A refused send is an HTTP error (FlowChat answers "
            "500 when PostgreSQL has no connection left for it: its role may hold 40).\n"
        )

    # Send latency
    add("## Send request latency (FlowChat, `POST /api/messages/` until its response), at 1 msg/s\n")
    add(
        "The request answers once the message is stored; its event goes to the channel layer after the answer "
        "(`conversations.outbox`), so the send does not wait for the fan-out.\n"
    )
    sizes = sorted({r["members"] for r in results if r["kind"] == "fan-out" and r["stack"] == "FlowChat"})
    rows = []
    for name in flowchat:
        row = [name]
        for size in sizes:
            point = find(results, name, "fan-out", members=size)
            row.append(f"{ms(point[0]['http_p50_ms'])} / {ms(point[0]['http_p99_ms'])}" if point else "–")
        rows.append(row)
    add(table(["stack / server", *(f"{size:,} members (p50 / p99 ms)" for size in sizes)], rows) + "\n")

    # CPU
    add(
        f"## Server CPU per 1,000 deliveries ({config['sweep_members']} sockets, {config['cpu_rate']} msg/s),"
        " and bytes per delivered frame\n"
    )
    add(
        "CPU is the server process tree's user + system time from the first send to the last delivery. "
        "Bytes are the WebSocket frame on the wire (header included) of one short text message.\n"
    )
    rows = []
    for name in names:
        cpu = find(results, name, "sweep", rate=config["cpu_rate"])
        fan = find(results, name, "fan-out", members=config["graceful_size"])
        rows.append(
            [
                name,
                ms(cpu[0]["cpu_ms_per_1000"]) if cpu else "–",
                num(fan[0]["bytes_per_frame"]) if fan else "–",
            ]
        )
    add(table(["stack / server", "CPU ms / 1,000 deliveries", "bytes / frame"], rows) + "\n")

    # Sockets
    counts = config["socket_counts"]
    add(f"## Opening {counts[0]:,} sockets, and idle memory per socket\n")
    add(
        "Handshakes at most 100 at a time; a failed attempt is retried twice and each failure counts. "
        "*Listen drops* are connections the kernel dropped because the server's listen queue was full "
        "(the client's SYN is then retried after 1 s; daphne listens with a queue of 50). "
        "Memory is (server RSS with N sockets open − RSS before) / N, after the frames (presence) stopped. "
        "FlowChat's sockets are the tabs of idle people in groups of 10, one tab each and then more tabs "
        "each; they come online as they connect, so the frames are presence events. *deflate* means the "
        "client offered permessage-deflate (measured at the first count only); *negotiated* is how many "
        "sockets the server accepted it on.\n"
    )
    rows = []
    for name in names:
        for point in find(results, name, "sockets"):
            memory = point.get("memory", {})
            rows.append(
                [
                    name,
                    "deflate" if point["deflate"] else "plain",
                    f"{point.get('open_seconds', 0):.1f}",
                    str(point.get("open_failures_total")),
                    num(point.get("listen_overflows")),
                    *(num(memory.get(str(n), {}).get("kib_per_socket"), 1) for n in counts),
                    num(list(memory.values())[-1]["frames"] if memory else None),
                    f"{point.get('deflate_negotiated')}",
                ]
            )
    header = ["stack / server", "offer", f"s to open {counts[0]:,}", "failures", "listen drops"]
    header += [f"KiB/socket at {n:,}" for n in counts] + ["frames received", "negotiated"]
    add(table(header, rows) + "\n")

    presence = [r for r in results if r["kind"] == "presence" and "error" not in r]
    if presence:
        add(f"## Presence: opening the {presence[0]['members']} tabs of one group of offline people\n")
        add(
            "Each person who comes online tells everyone who shares a chat with them (here every person is "
            f"also in the {max(config['fan_sizes']):,}-member group), so N arrivals make about N² frames on "
            "the open tabs and N × contacts publishes.\n"
        )
        rows = [
            [
                who(p),
                f"{p['open_seconds']:.1f}",
                f"{p['settle_seconds']:.1f}",
                num(p["presence_frames"]),
                f"{p['server_cpu_seconds']:.1f}",
            ]
            for p in presence
        ]
        add(table(["stack / server", "s to open", "s until quiet", "frames", "server CPU s"], rows) + "\n")

    waves = [r for r in results if r["kind"] == "waves" and "error" not in r]
    if waves:
        add("## Reconnect wave and arrival storm: failures and presence afterwards\n")
        add(
            f"**Wave**: every tab of the {config['wave_size']:,}-member group open, then all dropped and "
            "reopened at once (one handshake each, no retry). **Storm**: "
            f"{config['storm_sockets']:,} idle people's tabs arriving at {config['storm_rate']:g}/s. *Exact* means "
            "the database then says that those people and nobody else are online, with one connection row per "
            "open socket; *offline* that, once every socket closed, nobody is online and no row is left. "
            "*s until exact* counts from the last handshake.\n"
        )
        rows = []
        for w in waves:
            for part in ("wave", "storm"):
                d = w.get(part)
                if not d:
                    continue
                rows.append(
                    [
                        who(w),
                        part,
                        num(d["sockets"]),
                        f"{d['seconds']:.1f}",
                        str(d["failures"]),
                        "yes" if d["presence"]["exact"] else f"no {d['presence']}",
                        f"{d['exact_after_seconds']:.1f}",
                        "yes" if d["offline_after"]["exact"] else f"no {d['offline_after']}",
                        f"{d['server_cpu_seconds']:.1f}",
                    ]
                )
        header = ["stack / server", "point", "sockets", "s to open", "failures", "exact", "s until exact"]
        add(table([*header, "offline after", "server CPU s"], rows) + "\n")

    # Shutdown
    add(f"## Graceful shutdown: SIGTERM with {config['graceful_size']} sockets open\n")
    add(
        "Close codes the clients received (1001 going away, 1012 service restart; *no close frame* = the "
        "TCP connection closed without one, which a browser reports as 1006). A server still running "
        "after 10 s is killed.\n"
    )
    rows = []
    for name in names:
        point = find(results, name, "fan-out", members=config["graceful_size"])
        rows.append([name, shutdown_text(point[0].get("shutdown")) if point else "–"])
    add(table(["stack / server", "what happened"], rows) + "\n")

    # Ratios
    if minimal and raw and flowchat:
        base = PRODUCTION if PRODUCTION in flowchat else flowchat[0]
        add(f"## Ratios ({base} ÷ {minimal}, and {minimal} ÷ {raw})\n")
        add("Above 1× means the first is slower, costlier or bigger; for deliveries/s it is the second ÷ the first.\n")

        rows = []
        for size in config["fan_sizes"]:
            a, b, c = (value_at(results, n, "fan-out", "p99_ms", members=size) for n in (base, minimal, raw))
            rows.append([f"fan-out p99 at {size:,} sockets", ratio(a, b), ratio(b, c)])
        a, b, c = (most_deliveries(results, n) for n in (base, minimal, raw))
        rows.append([f"most deliveries/s (p99 ≤ {limit:.0f} ms)", ratio(b, a), ratio(c, b)])
        a, b, c = (
            value_at(results, n, "sweep", "cpu_ms_per_1000", rate=config["cpu_rate"]) for n in (base, minimal, raw)
        )
        rows.append(["CPU per 1,000 deliveries", ratio(a, b), ratio(b, c)])
        size = config["graceful_size"]
        a, b, c = (value_at(results, n, "fan-out", "bytes_per_frame", members=size) for n in (base, minimal, raw))
        rows.append(["bytes per frame", ratio(a, b), ratio(b, c)])
        for count in counts:
            a, b, c = (idle_kib(results, n, count) for n in (base, minimal, raw))
            rows.append([f"idle KiB per socket at {count:,}", ratio(a, b), ratio(b, c)])
        add(table(["measure", "FlowChat ÷ minimal", "minimal ÷ raw"], rows) + "\n")

    # Every point
    add("## Every point\n")
    add(
        "rate = planned msg/s (sent = messages the server accepted); lat = send → frame latency; "
        "http = send request time; lag = how late the generator got a send out; open = seconds to "
        "open the point's sockets (failures); PG conns = the most PostgreSQL connections FlowChat held "
        "(its database role may hold 40).\n"
    )
    rows = []
    for r in results:
        if r["kind"] in ("fan-out", "sweep", "mixed"):
            rows.append(
                [
                    who(r),
                    r["kind"],
                    f"{r['members']:,}",
                    f"{r['rate']:g}",
                    str(r.get("sent", "–")),
                    f"{ms(r.get('p50_ms'))} / {ms(r.get('p99_ms'))} / {ms(r.get('max_ms'))}",
                    f"{ms(r.get('http_p50_ms'))} / {ms(r.get('http_p99_ms'))}",
                    ms(r.get("lag_p99_ms")),
                    num(r.get("deliveries_per_s")),
                    f"{r.get('lost', '–')} / {r.get('duplicates', '–')}",
                    f"{r.get('sink_frames', '–')} / {r.get('sink_expected', '–')}",
                    ms(r.get("cpu_ms_per_1000")),
                    f"{r.get('generator_cpu', 0):.0%}",
                    f"{r.get('open_seconds', 0):.1f} ({r.get('open_failures', '–')})",
                    num(r.get("pg_connections")),
                    r.get("error", "") or (f"{r['http_errors']}" if r.get("http_errors") else ""),
                ]
            )
    header = ["stack / server", "point", "sockets", "rate", "sent", "lat p50 / p99 / max ms", "http p50 / p99 ms"]
    header += ["lag p99 ms", "deliveries/s", "lost / dup", "sinks", "CPU ms/1k", "gen", "open s (fail)", "PG conns"]
    header += ["notes"]
    add(table(header, rows) + "\n")
    errors = [r for r in results if "error" in r and r["kind"] not in ("fan-out", "sweep", "mixed")]
    for r in errors:
        add(f"- {who(r)} {r['kind']}: {r['error']}")
    logged = [r for r in results if r.get("log_errors")]
    if logged:
        add(
            "Server logs with error lines: "
            + "; ".join(f"{who(r)} {r['kind']} {r.get('members')} ({r['log_errors']})" for r in logged)
            + ".\n"
        )
    add(f"\nTo make it again: `{meta['command']}` (about {meta['seconds'] / 60:.0f} minutes).\n")
    return "\n".join(out)


PRODUCTION = "FlowChat / uvicorn"  # what bin/serve runs (README, "Production")


def targets_section(results: list[Result], meta: dict[str, Any], flowchat: list[str], minimal: str | None) -> str:
    """Issue 7's targets against this run, for the production server (the others in brackets)."""
    limit = meta["p99_limit_ms"]
    config = meta["config"]
    main = PRODUCTION if PRODUCTION in flowchat else flowchat[0]
    others = [name for name in flowchat if name != main]

    def each(value: Any) -> str:
        """The production server's value, then the others' in brackets."""
        rest = [f"{name.split(' / ')[1]} {value(name)}" for name in others]
        return f"{value(main)}" + (f" ({'; '.join(rest)})" if rest else "")

    def fan(name: str | None, size: int, key: str) -> float | None:
        return value_at(results, name, "fan-out", key, members=size)

    rows = []
    below = [
        r
        for r in results
        if r["stack"] == "FlowChat" and r["kind"] in ("fan-out", "mixed", "sweep") and r.get("within_limit", True)
    ]
    broken = sum(r.get("lost", 0) + r.get("duplicates", 0) for r in below)
    rows.append(["0 lost, 0 duplicated below saturation", f"{broken} in {len(below)} points", yes(broken == 0)])
    biggest = max(config["fan_sizes"])
    p99 = fan(main, biggest, "p99_ms")
    floor = fan(minimal, biggest, "p99_ms") if minimal else None
    rows.append(
        [
            f"fan-out to {biggest:,} sockets: p99 ≤ 100 ms",
            each(lambda n: f"{ms(fan(n, biggest, 'p99_ms'))} ms") + f"; minimal {ms(floor)} ms",
            yes(p99 is not None and p99 <= 100),
        ]
    )
    ours, theirs = most_deliveries(results, main), most_deliveries(results, minimal)
    rows.append(
        [
            f"≥ 20,000 deliveries/s per core at p99 ≤ {limit:.0f} ms",
            each(lambda n: num(most_deliveries(results, n))) + f"; minimal {num(theirs)}",
            yes(ours is not None and ours >= 20_000),
        ]
    )
    share = ours / theirs if ours and theirs else None
    rows.append(
        [
            "FlowChat ≥ 0.8× the minimal app (deliveries/s)",
            f"{share:.2f}×" if share else "–",
            yes(share is not None and share >= 0.8),
        ]
    )
    send = fan(main, biggest, "http_p99_ms")
    smallest = min(config["send_latency_sizes"], default=None)
    small = fan(main, smallest, "http_p99_ms") if smallest else None
    rows.append(
        [
            f"send p99 ≤ 50 ms at {biggest:,} members",
            each(lambda n: f"{ms(fan(n, biggest, 'http_p99_ms'))} ms")
            + (f"; {ms(small)} ms at {smallest} members" if small is not None else ""),
            yes(send is not None and send <= 50),
        ]
    )
    most = max(config["socket_counts"])
    kib = idle_kib(results, main, most)
    rows.append(
        [
            f"{most:,} idle sockets at ≤ 40 KiB each, no deflate",
            each(lambda n: f"{num(idle_kib(results, n, most), 1)} KiB"),
            yes(kib is not None and kib <= 40),
        ]
    )
    size = config["graceful_size"]
    frame = fan(main, size, "bytes_per_frame")
    rows.append(
        [
            "a short text message reaches a tab in ≤ 1 KB",
            each(lambda n: f"{num(fan(n, size, 'bytes_per_frame'))} B")
            + " (the benchmark's marked text, 35 characters, on the wire)",
            yes(frame is not None and frame <= 1024),
        ]
    )
    for part, label in (("wave", "reconnect wave"), ("storm", "arrival storm")):
        for w in find(results, main, "waves"):
            d = w.get(part)
            if d:
                good = d["failures"] == 0 and d["presence"]["exact"] and d["offline_after"]["exact"]
                rows.append(
                    [
                        f"{label} of {d['sockets']:,}: 0 failures, exact presence",
                        f"{d['failures']} failures, exact {yes(d['presence']['exact'])}, "
                        f"nobody left {yes(d['offline_after']['exact'])}",
                        yes(good),
                    ]
                )
    text = (
        f"## The targets (issue 7)\n\n{main}"
        + (" (what `bin/serve` runs)" if main == PRODUCTION else "")
        + " first, the other servers in brackets.\n\n"
        + table(["target", "measured", "met"], rows)
        + "\n"
    )
    if p99 is not None and p99 > 100 and floor is not None:
        text += (
            f"\nA fan-out to {biggest:,} sockets is {biggest:,} frames sent one after another by one core: its p99 is "
            f"the last tab's wait. The minimal app, which forwards a "
            f"{num(fan(minimal, config['graceful_size'], 'bytes_per_frame'))}-byte text and nothing else, takes "
            f"{ms(floor)} ms for it here, the floor of this stack on this core; FlowChat takes "
            f"{p99 / floor:.2f}× that, for frames of a kilobyte that each tab's socket picks its parts of.\n"
        )
    if share is not None and share < 0.8:
        text += (
            '\nThe throughput targets are the ones this stack cannot meet: see "Where a send\'s CPU goes" '
            "below for the limit, the profile that shows why, and what would lift it.\n"
        )
    return text


def yes(value: bool) -> str:
    return "yes" if value else "no"


def send_cost_section(results: list[Result], meta: dict[str, Any], flowchat: list[str], minimal: str | None) -> str:
    """The send's profile (benchmarks/send_profile.py) and the ceiling it puts on deliveries/s."""
    profile = meta["send_profile"]
    members = meta["config"]["sweep_members"]
    cpu = profile["cpu_ms"]
    out = [
        "## Where a send's CPU goes (benchmarks/send_profile.py)\n",
        f"{profile['sends']} sends of a short text to a group of {profile['members']} through "
        f"`POST /api/messages/` in-process ({profile['engine']}, Django's test client with a token, the on-commit "
        f"work run as the server runs it, pinned to the server's core): **{cpu:.1f} ms of CPU per send** "
        f"({profile['wall_ms']:.1f} ms of wall time), {profile['queries']} queries. Each part is inclusive of what "
        "it calls, as a share of the profiled send; *≈ ms* is that share of the unprofiled CPU (cProfile weighs "
        "Python-heavy parts, the templates, more than the driver's C).\n",
        table(
            ["part of the send", "share", "≈ ms"],
            [[label, f"{share:.0%}", f"{share * cpu:.2f}"] for label, share in profile["parts"]],
        )
        + "\n",
    ]
    # What one delivery costs the minimal app at its best: the least the stack itself needs.
    best, _over = best_sweep(results, minimal) if minimal else (None, None)
    if best and best.get("cpu_ms_per_1000"):
        delivery = best["cpu_ms_per_1000"] / 1000
        per_message = cpu + members * delivery
        broadcast = next((share for label, share in profile["parts"] if label.startswith("broadcast.")), 0.0)
        without_broadcast = cpu * (1 - broadcast)
        ceiling = 1000 / per_message * members
        mine = [b for b in (best_sweep(results, name)[0] for name in flowchat) if b]
        reached = max((b["deliveries_per_s"] for b in mine), default=None)
        out.append(
            f"**The limit.** In a chat of {members}, a message costs the server its send ({cpu:.1f} ms) and "
            f"{members} deliveries. Even at the minimal app's cost per delivery at its best "
            f"({delivery * 1000:.0f} µs, its sweep at {best['rate']:g} msg/s), that is {per_message:.1f} ms of one "
            f"core per message: at most {1000 / per_message:.0f} messages, {num(ceiling)} deliveries a second, "
            f"{ceiling / best['deliveries_per_s']:.2f}× the minimal app's {num(best['deliveries_per_s'])} "
            f"(FlowChat reached {num(reached)}). The minimal app's send is one `group_send`; FlowChat's is an "
            "authenticated Django request that checks the sender's membership, stores the message, its read "
            "position and the chat's order in one transaction, renders the event for every language and answers "
            f"with the API's Message: {without_broadcast:.1f} ms of it without the broadcast's query and renders, "
            f"against {members * delivery:.1f} ms for the minimal app's whole message of {members} deliveries.\n"
        )
        out.append(
            "**What would lift it**, in the order it pays: more server processes (sends are independent and the "
            "fan-out is one publish per chat, so a second process on a second core doubles the sends; scale-out "
            "over Redis is tested); rendering each event only in the languages its members' tabs use (half the "
            "renders for a one-language team); the event's pieces in one template pass per language; the token "
            "and the chat in one query; and past that, a send path outside Django's request cycle (a socket "
            "message handled by the consumer, as Campfire's Action Cable does), which the API contract of the "
            "original FlowChat does not ask for.\n"
        )
    return "\n".join(out)


def plot(results: list[Result], path: Path, limit_ms: float = 300.0) -> None:
    """p99 latency against deliveries/s of every sweep, one line per stack / server (log axes)."""
    try:
        import matplotlib
    except ImportError:
        print(f"no plot ({path.name}): matplotlib is not installed (pip install -r requirements-bench.txt)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    drawn = 0
    for name in stacks(results):
        steps = sorted(find(results, name, "sweep"), key=lambda r: r["rate"])
        points = [(r["deliveries_per_s"], r["p99_ms"]) for r in steps if r.get("p99_ms") is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        style = "-o" if name.startswith("FlowChat") else "--s"
        axes.plot(xs, ys, style, label=name, markersize=4)
        drawn += 1
    axes.axhline(limit_ms, color="grey", linewidth=0.8, linestyle=":")
    axes.annotate(f"p99 limit {limit_ms:.0f} ms", (0.01, limit_ms), xycoords=("axes fraction", "data"), fontsize=7)
    axes.set_xscale("log")
    axes.set_yscale("log")
    plain = FuncFormatter(lambda value, _position: f"{value:,.0f}" if value >= 1 else f"{value:g}")
    axes.xaxis.set_major_formatter(plain)
    axes.yaxis.set_major_formatter(plain)
    members = next((r["members"] for r in results if r["kind"] == "sweep"), 0)
    axes.set_xlabel(f"deliveries per second (messages/s × {members} sockets of one chat)")
    axes.set_ylabel("p99 send → receive latency (ms)")
    axes.set_title("Latency against load: FlowChat, a minimal Channels app, raw websockets")
    axes.grid(True, which="both", linewidth=0.3)
    if drawn:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
