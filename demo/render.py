"""The run, for people: a terminal timeline, a markdown report and a PNG of the same timeline."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from lambdas.control_plane.decision import Trigger
from sim.cloudwatch import LAMBDA_REACTION_S

from .fleet import SCENARIO
from .results import DemoResult, Event, Sample

STATUS_EVERY_S = 300  # a status line per component at least this often, and on every change
_ALARM_LETTER = {
    Trigger.SCALE_OUT.value: "out",
    Trigger.SCALE_IN.value: "in",
    Trigger.FROM_ZERO.value: "zero",
}


class Style:
    """ANSI colours, or nothing when the output is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def yellow(self, text: str) -> str:
        return self._wrap("1;33", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def clock(t_s: float) -> str:
    """Simulated time as minutes:seconds from the start of the run."""
    minutes, seconds = divmod(round(t_s), 60)
    return f"{minutes:02d}:{seconds:02d}"


def _initial_noise(events: list[Event]) -> set[int]:
    """Indexes of the first INSUFFICIENT_DATA -> OK transitions of new alarms and the
    scaler's "nothing to do" answers to them: real, but not the story."""
    hidden: set[int] = set()
    firsts: list[tuple[float, str | None]] = []
    for i, e in enumerate(events):
        if e.kind == "alarm" and "INSUFFICIENT_DATA -> OK" in e.text:
            hidden.add(i)
            firsts.append((e.t_s, e.component))
    for i, e in enumerate(events):
        if (
            e.kind == "decision"
            and e.data.get("reason") == "AlarmNotInAlarm"
            and any(
                c == e.component and math.isclose(e.t_s, t + LAMBDA_REACTION_S) for t, c in firsts
            )
        ):
            hidden.add(i)
    return hidden


def _alarms(sample: Sample, style: Style) -> str:
    cells = []
    for trigger, letter in _ALARM_LETTER.items():
        state = sample.alarms.get(trigger, "-")
        cells.append(style.red(letter.upper()) if state == "ALARM" else style.dim(letter))
    return " ".join(cells)


def _status(sample: Sample, style: Style, width: int) -> str:
    per_copy = "-" if sample.per_copy is None else f"{sample.per_copy:.1f}"
    copies = f"{sample.desired}/{sample.current}"
    return (
        f"{clock(sample.t_s)}  {sample.component:<{width}}  {sample.in_flight:7.1f}  "
        f"{per_copy:>8}  {_alarms(sample, style)}  {copies:>6}  {sample.instances:>4}"
    )


def _event_line(event: Event, style: Style) -> str:
    who = event.component or event.endpoint
    text = f"{clock(event.t_s)}  {'':2}{who}: {event.text}"
    if event.kind == "alarm":
        return style.red(text) if event.data.get("state") == "ALARM" else style.green(text)
    if event.kind in ("decision", "forecast"):
        return style.yellow(text) if event.data.get("action") == "scaled" else text
    if event.kind in ("cleanup", "aws", "sqs"):
        return style.cyan(text)
    if event.kind == "error":
        return style.red(text)
    return text


def timeline_lines(result: DemoResult, style: Style) -> list[str]:
    """Status lines (when something changed, or every 5 minutes) merged with the events."""
    width = max(len(s.component) for s in result.samples) if result.samples else 20
    header = (
        f"{'time':>5}  {'component':<{width}}  {'demand':>7}  {'per copy':>8}  "
        f"{'alarms':<11}  {'copies':>6}  {'inst':>4}"
    )
    lines: list[tuple[float, int, str]] = []
    last: dict[str, tuple[object, ...]] = {}
    last_at: dict[str, float] = {}
    for s in result.samples:
        key = (s.desired, s.current, s.instances, tuple(sorted(s.alarms.items())))
        if last.get(s.component) != key or s.t_s - last_at.get(s.component, -1e9) >= STATUS_EVERY_S:
            lines.append((s.t_s, 0, _status(s, style, width)))
            last[s.component], last_at[s.component] = key, s.t_s
    hidden = _initial_noise(result.events)
    for i, e in enumerate(result.events):
        if i not in hidden:
            lines.append((e.t_s, 1, _event_line(e, style)))
    lines.sort(key=lambda x: (x[0], x[1]))
    out = [style.bold(header)]
    out.extend(text for _, _, text in lines)
    if hidden:
        out.append(
            style.dim(
                f"({len(hidden)} lines not shown: each new alarm's first "
                "INSUFFICIENT_DATA -> OK and the scaler's answer to it)"
            )
        )
    return out


def intro_lines(result: DemoResult, style: Style) -> list[str]:
    start, end = result.spike_s
    lines = [
        style.bold("Local end-to-end run on an embedded AWS"),
        f"moto server {result.server_url} (loopback only); fleet file {result.config}",
    ]
    for de in result.endpoints:
        lines.append(f"  endpoint {de.label}")
    lines.append(
        f"traffic: the simulator's {SCENARIO} scenario, {result.duration_s / 60:.0f} "
        f"simulated minutes, spike from {clock(start)} to {clock(end)}"
    )
    for component, load in result.loads.items():
        ready = result.ready_s[component]
        lines.append(
            f"  {component}: load x{load:g}; a new copy serves after "
            f"{ready['warm_instance']:.0f} s on a running instance, "
            f"{ready['cached']:.0f} s on a new instance (image cached), "
            f"{ready['uncached']:.0f} s uncached"
        )
    lines.append(
        style.dim(
            "columns: demand = requests in flight (tick average); per copy = "
            "the ConcurrentRequestsPerCopy datapoint; alarms: scale-out, "
            "scale-in, from-zero (CAPS = ALARM); copies = desired/current"
        )
    )
    return lines


def summary_lines(result: DemoResult, style: Style) -> list[str]:
    c = result.cleanup
    lines = [style.bold(f"Deleted {c.deleted_endpoint}; rows per endpoint before -> after:")]
    for endpoint, before in c.rows_before.items():
        after = c.rows_after[endpoint]
        if endpoint == c.deleted_endpoint:
            verdict = style.green("all gone") if after == 0 else style.red("rows left")
        else:
            same = c.others_identical.get(endpoint, False)
            verdict = style.green("intact, identical") if same else style.red("changed")
        lines.append(f"  {endpoint}: {before} -> {after} ({verdict})")
    lines.append(style.bold("Checks:"))
    for check in result.checks:
        mark = style.green("PASS") if check.ok else style.red("FAIL")
        lines.append(f"  {mark} {check.name}: {check.detail}")
    calls = sum(result.invocations.values())
    per_function = ", ".join(f"{k} {v}" for k, v in result.invocations.items())
    lines.append(
        f"{calls} handler invocations ({per_function}), "
        f"{result.api_calls} AWS API calls from the demo itself; "
        f"{result.duration_s / 60:.0f} simulated minutes in {result.wall_s:.1f} s"
    )
    return lines


# --- files ------------------------------------------------------------------------------------
def write_png(result: DemoResult, path: Path) -> None:
    """Demand, desired and current copies and alarm states over time, one panel per component."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    components = list(dict.fromkeys(s.component for s in result.samples))
    fig, axes = plt.subplots(
        len(components), 1, figsize=(11, 3.2 * len(components)), sharex=True, squeeze=False
    )
    for ax, component in zip(axes[:, 0], components, strict=True):
        series = result.series(component)
        t_min = [s.t_s / 60 for s in series]
        ax.plot(
            t_min,
            [s.in_flight for s in series],
            color="tab:gray",
            lw=1,
            label="demand (requests in flight)",
        )
        ax.set_ylabel("requests in flight")
        ax.set_title(component, loc="left", fontsize=10)
        _shade(
            ax,
            t_min,
            [s.alarms.get(Trigger.SCALE_OUT.value) == "ALARM" for s in series],
            "tab:red",
            "scale-out alarm in ALARM",
        )
        _shade(
            ax,
            t_min,
            [s.alarms.get(Trigger.SCALE_IN.value) == "ALARM" for s in series],
            "tab:blue",
            "scale-in alarm in ALARM",
        )
        copies = ax.twinx()
        copies.step(
            t_min,
            [s.desired for s in series],
            where="post",
            color="tab:orange",
            ls="--",
            label="desired copies",
        )
        copies.step(
            t_min,
            [s.current for s in series],
            where="post",
            color="tab:green",
            label="current copies (serving)",
        )
        copies.set_ylabel("copies")
        copies.set_ylim(0, max(max(s.desired for s in series) + 1, 2))
        for e in result.decisions(component):
            if e.data.get("action") == "scaled":
                ax.axvline(e.t_s / 60, color="black", lw=0.6, ls=":")
        handles = ax.get_legend_handles_labels()
        more = copies.get_legend_handles_labels()
        ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("simulated minutes (dotted: scaler changed the copy count)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _shade(ax: object, t_min: list[float], on: list[bool], color: str, label: str) -> None:
    start = None
    labelled = False
    for t, flag in zip([*t_min, math.inf], [*on, False], strict=True):
        if flag and start is None:
            start = t
        elif not flag and start is not None:
            end = t if math.isfinite(t) else t_min[-1]
            ax.axvspan(  # type: ignore[attr-defined]
                start,
                end,
                color=color,
                alpha=0.12,
                label=None if labelled else label,
            )
            labelled, start = True, None


def _table(rows: Iterable[Iterable[object]], header: list[str]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows)
    return out


def write_report(result: DemoResult, out_dir: Path) -> Path:
    """``report.md`` and ``timeline.png`` in ``out_dir``; returns the report's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_png(result, out_dir / "timeline.png")
    plain = Style(False)
    start, end = result.spike_s
    md = [
        "# Local end-to-end run",
        "",
        f"Fleet file `{result.config}`, run on moto's server at `{result.server_url}` "
        f"(loopback) in {result.wall_s:.1f} s for {result.duration_s / 60:.0f} simulated "
        "minutes. What is real and what is simulated: docs/local-demo.md.",
        "",
        "## Checks",
        "",
    ]
    md += _table(
        ((("PASS" if c.ok else "FAIL"), c.name, c.detail) for c in result.checks),
        ["", "check", "what the run showed"],
    )
    md += ["", "## Fleet and traffic", ""]
    md += [f"- {de.label}" for de in result.endpoints]
    md += [
        f"- traffic: the simulator's `{SCENARIO}` scenario, spike from {clock(start)} to "
        f"{clock(end)} (mm:ss of simulated time)"
    ]
    for component, load in result.loads.items():
        r = result.ready_s[component]
        md.append(
            f"- `{component}`: load x{load:g}; new copy serves after "
            f"{r['warm_instance']:.0f} s (running instance), {r['cached']:.0f} s (new "
            f"instance, image cached), {r['uncached']:.0f} s (uncached)"
        )
    md += [
        "",
        "## Timeline",
        "",
        "![timeline](timeline.png)",
        "",
        "Red: scale-out alarm in ALARM; blue: scale-in alarm in ALARM; dotted: the scaler "
        "changed the copy count.",
        "",
        "## Decisions",
        "",
    ]
    md += _table(
        (
            (
                clock(e.t_s),
                e.component,
                e.data.get("source", ""),
                e.data.get("action"),
                e.data.get("reason"),
                e.data.get("desired"),
                e.data.get("target"),
                e.text.split("] ", 1)[1] if "] " in e.text else "",
            )
            for e in result.decisions()
        ),
        ["time", "component", "event", "action", "reason", "desired", "target", "detail"],
    )
    md += ["", "## Forecaster, alarms, tracker and cleanup", ""]
    md += [
        f"- {clock(e.t_s)} `{e.component or e.endpoint}`: {e.text}"
        for e in result.events
        if e.kind in ("forecast", "alarm", "tracker", "cleanup", "aws", "sqs", "error")
    ]
    md += ["", "## Terminal timeline", "", "```"]
    md += timeline_lines(result, plain)
    md += ["```", ""]
    md += [
        "## Totals",
        "",
        f"- handler invocations: {', '.join(f'{k} {v}' for k, v in result.invocations.items())}",
        f"- AWS API calls made by the demo itself (not counting the handlers'): {result.api_calls}",
        f"- ticks where moto and the simulation disagreed on serving copies: {result.drift_ticks}",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return path
