#!/usr/bin/env python3
"""Draws docs/architecture/layers.png and run_flow.png, the pictures of docs/architecture.md.

The layers come from the tree, not from this file: the rooms and their order from host/LAYERS,
each room's files from host/<room>/*.cpp, and the rooms each one links from host/<room>/CMakeLists.txt
(priorlab_host_room(... LINKS ...)) and host/cli/CMakeLists.txt (priorlab_check_layers(cli ...)).
The flow of one run names functions; each is checked to occur in the file it is said to be in,
so that the picture fails to draw rather than name something that is gone.

Usage: /usr/bin/python3 docs/architecture/draw_layers.py   (from anywhere; needs matplotlib)
"""
import glob
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOST = os.path.join(ROOT, "host")

# One fill per room (and a darker line colour for the arrows leaving it).
FILL = {"sdk": "#f2f2f2", "pipeline": "#dbe9f6", "engine": "#e1f0d8", "results": "#fbe3cc", "run": "#f5d9d9",
        "experiments": "#e6dcf2", "cli": "#e8e8e8", "plugins": "#fff6cc", "python": "#d9f0ee", "users": "#f7f7f7"}
LINE = {"pipeline": "#2f6ea8", "engine": "#3f8a2c", "results": "#c76a12", "run": "#b03030",
        "experiments": "#6b4aa0", "cli": "#555555"}


def read_layers():
    """The rooms of host/LAYERS, bottom first."""
    with open(os.path.join(HOST, "LAYERS"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def read_links(rooms):
    """{room: [rooms it links]} from the CMake files, and whether the pipeline links priorlab_sdk."""
    links = {}
    for room in rooms:
        path = os.path.join(HOST, room, "CMakeLists.txt")
        text = open(path, encoding="utf-8").read()
        m = re.search(r"priorlab_host_room\(\s*%s\b(.*?)\)" % room, text, re.S)
        if m:
            after = m.group(1).split("LINKS", 1)
            links[room] = after[1].split() if len(after) == 2 else []
        # The executable's room checks its links itself: priorlab_check_layers(cli experiments ...).
        m = re.search(r"priorlab_check_layers\(\s*%s\s+([^)]*)\)" % room, text)
        if m and room not in links:
            links[room] = m.group(1).split()
    pipeline_cmake = open(os.path.join(HOST, rooms[0], "CMakeLists.txt"), encoding="utf-8").read()
    sdk = re.search(r"target_link_libraries\(priorlab_%s\b[^)]*\bpriorlab_sdk\b" % rooms[0], pipeline_cmake) is not None
    missing = [r for r in rooms if r not in links]
    if missing:
        sys.exit(f"draw_layers.py: no link list found for room(s) {missing} in host/*/CMakeLists.txt")
    return links, sdk


def room_files(room):
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(HOST, room, "*.cpp")))


def box(ax, x0, y0, x1, y1, fill, edge="#444444", style="round,pad=0,rounding_size=0.08", lw=1.0, ls="-"):
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle=style, fc=fill, ec=edge, lw=lw, ls=ls))


def arrow(ax, a, b, color="#333333", ls="-", lw=1.2, head=10):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=head, color=color, lw=lw, ls=ls,
                                 shrinkA=0, shrinkB=0))


def wrap(words, width):
    """Comma-separated words in lines of at most `width` characters."""
    lines, line = [], ""
    for w in words:
        piece = w if not line else line + ", " + w
        if len(piece) > width and line:
            lines.append(line + ",")
            line = w
        else:
            line = piece
    return lines + [line] if line else lines


def draw_layers(path):
    rooms = read_layers()
    links, pipeline_links_sdk = read_links(rooms)
    fig = plt.figure(figsize=(15, 13.3), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 15)
    ax.set_ylim(0, 13.3)
    ax.axis("off")

    ax.text(0.4, 12.95,
            "priorlab: the SDK, the host's rooms (host/LAYERS, bottom to top), the plugins and the Python module",
            fontsize=13, weight="bold", va="center")
    ax.plot([9.9, 10.5], [12.52, 12.52], color="#333333", lw=1.2)
    ax.text(10.6, 12.52, "links (target_link_libraries)", fontsize=9.5, va="center")
    ax.plot([9.9, 10.5], [12.22, 12.22], color="#333333", lw=1.2, ls="--")
    ax.text(10.6, 12.22, "loads or calls at run time, no link", fontsize=9.5, va="center")
    ax.text(0.4, 12.52,
            "Each room is the static library priorlab_<room> of host/<room>/; cli is the priorlab executable.",
            fontsize=9.5, va="center")
    ax.text(0.4, 12.22, "An arrow leaves the room that links and ends at the room it links; no arrow points up.",
            fontsize=9.5, va="center")

    # The rooms, bottom to top.
    x0, x1, h, gap, y_first = 3.1, 8.7, 1.2, 0.4, 2.25
    y = {}
    for i, room in enumerate(rooms):
        y[room] = y_first + i * (h + gap) + (0.35 if room == rooms[-1] else 0)
    # priorlab_host: every room below the last one (the executable's), as one INTERFACE target.
    lib_rooms = rooms[:-1]
    cx0, cx1, cy0, cy1 = 0.55, 9.05, y_first - 0.25, y[lib_rooms[-1]] + h + 0.22
    box(ax, cx0, cy0, cx1, cy1, "none", edge="#777777", ls="--", lw=1.1, style="round,pad=0,rounding_size=0.12")
    ax.text(cx1 - 0.1, cy1 + 0.04, "priorlab_host: an INTERFACE target linking these %d rooms (host/CMakeLists.txt)"
            % len(lib_rooms), fontsize=9, ha="right", va="bottom", color="#555555")

    for room in rooms:
        y0 = y[room]
        box(ax, x0, y0, x1, y0 + h, FILL.get(room, "#eeeeee"))
        target = "priorlab (executable)" if room == rooms[-1] else "priorlab_" + room
        ax.text(x0 + 0.2, y0 + h - 0.2, f"{room}/", fontsize=12, weight="bold", va="center")
        ax.text(x0 + 0.2 + 0.13 * len(room) + 0.35, y0 + h - 0.2, target, fontsize=10, va="center",
                family="monospace", color="#333333")
        files = [f + ".cpp" for f in room_files(room)]
        for k, line in enumerate(wrap(files, 66)):
            ax.text(x0 + 0.2, y0 + h - 0.5 - 0.25 * k, line, fontsize=9.5, va="center", family="monospace")

    # Links between rooms: each linking room has a bus on the left; arrows enter the room it links.
    bus_x = {room: 2.85 - 0.33 * (i - 1) for i, room in enumerate(rooms) if i > 0}
    slots = {}
    for t in rooms:
        sources = sorted((s for s in rooms if t in links[s]), key=rooms.index, reverse=True)
        for k, s in enumerate(sources):  # the farthest bus enters lowest: no crossing in the bottom room
            slots[(s, t)] = y[t] + 0.13 + 0.16 * k
    for s in rooms[1:]:
        targets = [t for t in links[s]]
        if not targets:
            continue
        bx, color = bus_x[s], LINE.get(s, "#333333")
        y_out = y[s] + h - 0.2 if s != rooms[-1] else y[s] + h / 2
        low = min(slots[(s, t)] for t in targets)
        ax.plot([x0, bx, bx], [y_out, y_out, low], color=color, lw=1.4, solid_joinstyle="miter")
        ax.plot([x0], [y_out], marker="o", ms=4, color=color)
        for t in targets:
            arrow(ax, (bx, slots[(s, t)]), (x0, slots[(s, t)]), color=color, lw=1.4, head=9)

    # The SDK, at the bottom.
    box(ax, 0.4, 0.25, 14.6, 1.45, FILL["sdk"])
    ax.text(0.6, 1.17, "sdk/", fontsize=12, weight="bold", va="center")
    ax.text(1.3, 1.17, "libpriorlab_sdk.so (target priorlab_sdk, alias priorlab::sdk): the one shared library host and "
            "plugins both link", fontsize=10, va="center")
    ax.text(0.6, 0.78, "sdk/include/priorlab/: the six interfaces dataset.hpp network.hpp prior.hpp objective.hpp "
            "scheduler.hpp evaluator.hpp,", fontsize=9.5, va="center", family="monospace")
    ax.text(0.6, 0.5, "abi.hpp plugin.hpp (the handshake), options.hpp, context.hpp, error.hpp, and helpers "
            "(math, likelihood, layers, plot, io, ...)", fontsize=9.5, va="center", family="monospace")
    if pipeline_links_sdk:
        arrow(ax, (5.9, y[rooms[0]]), (5.9, 1.45), color=LINE[rooms[0]], lw=1.4)
        ax.text(6.0, 1.72, "links priorlab_sdk (PUBLIC: every room above gets it)", fontsize=9, va="center",
                color=LINE[rooms[0]])

    # Plugins, beside the host.
    px0, px1, py0, py1 = 10.5, 14.6, 2.25, 5.65
    box(ax, px0, py0, px1, py1, FILL["plugins"])
    lines = ["plugins/<kind>/<name>/", "one MODULE library per folder:", "libpriorlab_<kind>_<name>.so",
             "kinds: dataset, network, prior,", "objective, scheduler, evaluator", "built by priorlab_add_plugin()",
             "(cmake/PriorlabPlugin.cmake);", "links priorlab_sdk, never the host"]
    for k, line in enumerate(lines):
        ax.text(px0 + 0.15, py1 - 0.28 - 0.37 * k, line, fontsize=10 if k else 11, va="center",
                weight="bold" if k == 0 else "normal", family="monospace" if k in (0, 2) else None)
    arrow(ax, (12.55, py0), (12.55, 1.45), lw=1.4)
    ax.text(12.65, 1.8, "links priorlab_sdk", fontsize=9, va="center")
    ya = y[rooms[0]] + h - 0.3
    arrow(ax, (x1, ya), (px0, ya), ls="--", lw=1.2)
    ax.text((x1 + px0) / 2 + 0.1, ya + 0.32, "Registry::discover:", fontsize=8.5, ha="center", va="center")
    ax.text((x1 + px0) / 2 + 0.1, ya + 0.12, "dlopen, handshake", fontsize=8.5, ha="center", va="center")

    # Those that link priorlab_host: tests and benchmarks, and the Python module.
    ty0, ty1 = 6.6, 7.9
    box(ax, px0, ty0, px1, ty1, FILL["users"])
    for k, line in enumerate(["tests/, tests/fuzz/, bench/", "drive the host in-process:", "they link priorlab_host"]):
        ax.text(px0 + 0.15, ty1 - 0.25 - 0.37 * k, line, fontsize=10, va="center",
                family="monospace" if k == 0 else None)
    arrow(ax, (px0, (ty0 + ty1) / 2), (cx1, (ty0 + ty1) / 2), lw=1.4)
    qy0, qy1 = 8.9, 11.3
    box(ax, px0, qy0, px1, qy1, FILL["python"])
    for k, line in enumerate(["python/", "import priorlab: the pybind11", "module _priorlab (python/src/),",
                              "links priorlab_host; its init()", "calls set_self_executable();",
                              "priorlab.register adds Python", "plugins (Registry::add)"]):
        ax.text(px0 + 0.15, qy1 - 0.25 - 0.32 * k, line, fontsize=11 if k == 0 else 10, va="center",
                weight="bold" if k == 0 else "normal", family="monospace" if k == 0 else None)
    arrow(ax, (px0, 9.3), (cx1, 9.3), lw=1.4)
    ax.text((cx1 + px0) / 2, 9.5, "links", fontsize=9, ha="center", va="center")

    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return rooms, links


# The flow of one run: (room, file, title, text lines, names that must occur in `file`).
RUN_FLOW = [
    ("cli", "host/cli/main.cpp", "main()",
     ["tune_malloc(); CLI11 parses the command line (add_subcommands, add_run); dispatch() picks run"],
     ["main", "tune_malloc", "add_subcommands", "add_run", "dispatch"]),
    ("pipeline", "host/pipeline/registry.cpp", "find the plugins",
     ["dispatch(): check_plugin_dirs(), plugin_search_path(), Registry::discover()",
      "load_library() per *.so: dlopen, check_handshake(), then the option declarations"],
     ["check_plugin_dirs", "plugin_search_path", "Registry::discover", "Registry::load_library", "check_handshake"]),
    ("run", "host/run/run.cpp", "run_pipeline() -> load_pipeline()",
     ["load_pipeline() = load_pipeline_file() + apply_override() per --set + resolve_pipeline(),",
      "all three in host/pipeline/pipeline.cpp"],
     ["run_pipeline", "load_pipeline", "load_pipeline_file", "apply_override", "resolve_pipeline"]),
    ("pipeline", "host/pipeline/pipeline.cpp", "extends, --set, resolution",
     ["load_pipeline_file(): each \"extends\" file first, merged under it (extend(), merge_json(), Provenance)",
      "apply_override(): set_option_path();  resolve_pipeline(): run_options(), resolve_section() per plugin",
      "against its declared OptionSet, training_options(), distributed_options(); every default filled in"],
     ["load_pipeline_file", "extend", "merge_json", "apply_override", "set_option_path", "resolve_pipeline",
      "run_options", "resolve_section", "training_options", "distributed_options"]),
    ("pipeline", "host/pipeline/pipeline.cpp", "build_pipeline()",
     ["torch::manual_seed(seed), set_flush_denormal(); Registry::create<T>() builds, through call_plugin():",
      "dataset -> network -> prior -> objective -> scheduler -> evaluators. Nothing is written yet."],
     ["build_pipeline", "manual_seed", "set_flush_denormal", "create<"]),
    ("run", "host/run/run.cpp", "the run folder",
     ["run_pipeline(): join_launch() when launched data-parallel; a staging folder, locked by RunLock::acquire()",
      "(pipeline/safety.cpp), gets config.json and run.json (set_status: created) and is renamed into place;",
      "then the Trainer is built (engine/trainer.cpp)"],
     ["run_pipeline", "join_launch", "RunLock::acquire", "set_status", "Trainer trainer"]),
    ("run", "host/run/run.cpp", "train_and_evaluate()",
     ["train_run(): run.json running, Trainer::train(); a failure or Ctrl-C is recorded there (failed,",
      "interrupted) and report.html is written (write_report) before the exit code goes back"],
     ["train_and_evaluate", "train_run", "trainer.train()", "write_report"]),
    ("engine", "host/engine/trainer.cpp", "Trainer::train()",
     ["start_training(): constraint_baseline(), Scheduler::check_baseline() (the guard), EventWriter::open();",
      "then train_step() until training.iterations, or a checkpoint and return on Ctrl-C"],
     ["Trainer::train", "start_training", "constraint_baseline", "check_baseline", "EventWriter::open",
      "train_step"]),
    ("engine", "host/engine/trainer.cpp", "one step: Trainer::train_step()",
     ["scheduler->beta(); batch_indices(); Dataset::get(); Prior::begin_step(); Objective::compute();",
      "step_statistics() + global_statistics(); update_parameters(): backward, FusedAdam::step;",
      "Scheduler::update(); report_step() -> log_interval(): metrics.jsonl, CollapseMonitor::observe(),",
      "EventWriter::scalars(); save_checkpoint_agreed() -> save_checkpoint() every checkpoint_every and at the end"],
     ["train_step", "batch_indices", "->get(", "begin_step", "->compute(", "step_statistics", "global_statistics",
      "update_parameters", "->update(", "report_step", "log_interval", "collapse_.observe", "->scalars(",
      "save_checkpoint_agreed", "save_checkpoint"]),
    ("run", "host/run/run.cpp", "evaluate_run()",
     ["evaluate_pipeline(): Evaluator::evaluate() per evaluator (call_plugin), pictures into artefacts/;",
      "write_evaluation_events(); summary.json (write_json, dump_json); then train_and_evaluate() sets",
      "run.json to completed, or failed when an evaluator failed (set_status)"],
     ["evaluate_run", "evaluate_pipeline", "->evaluate(ctx)", "write_evaluation_events", "summary.json", "dump_json",
      "set_status(dir, r.errors.empty()"]),
    ("results", "host/results/run_report.cpp", "write_run_report()",
     ["print_run() -> print_evaluations() -> write_report() (run.cpp) -> write_run_report():",
      "run_report_html() reads the folder back and writes report.html, atomically"],
     ["write_run_report", "run_report_html"]),
]


def check_run_flow():
    """Every name of RUN_FLOW occurs in its file (run.cpp's report calls are checked in run.cpp)."""
    extra = {"host/results/run_report.cpp": ["host/run/run.cpp"], "host/pipeline/registry.cpp": ["host/cli/main.cpp"],
             "host/run/run.cpp": ["host/pipeline/pipeline.cpp", "host/pipeline/safety.hpp"],
             "host/engine/trainer.cpp": ["host/engine/trainer.hpp"]}
    missing = []
    for room, file, _, _, names in RUN_FLOW:
        texts = ""
        for f in [file] + extra.get(file, []):
            texts += open(os.path.join(ROOT, f), encoding="utf-8").read()
        if not file.startswith(f"host/{room}/"):
            missing.append(f"{file} is not in host/{room}/")
        for name in names:
            if name not in texts:
                missing.append(f"{file}: {name}")
    for name in ["print_run", "print_evaluations", "FusedAdam::step", "CollapseMonitor::observe",
                 "EventWriter::scalars"]:
        short = name.split("::")[-1]
        if not any(short in open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(HOST, "*", "*.?pp"))):
            missing.append(f"host/: {name}")
    if missing:
        sys.exit("draw_layers.py: the run flow names what the tree does not have:\n  " + "\n  ".join(missing))


def draw_run_flow(path):
    check_run_flow()
    heights = [0.42 + 0.27 * len(lines) for _, _, _, lines, _ in RUN_FLOW]
    gap = 0.28
    total = sum(heights) + gap * (len(RUN_FLOW) - 1) + 1.3
    fig = plt.figure(figsize=(15, total), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 15)
    ax.set_ylim(0, total)
    ax.axis("off")
    ax.text(0.3, total - 0.4, "One run: priorlab run configs/pendulum/vhp_rewo.json  (room, file, and the functions "
            "in the order they run)", fontsize=13, weight="bold", va="center")
    top = total - 0.9
    for i, ((room, file, title, lines, _), hgt) in enumerate(zip(RUN_FLOW, heights)):
        y1 = top
        y0 = y1 - hgt
        box(ax, 0.3, y0, 3.55, y1, FILL[room])
        ax.text(0.45, y1 - 0.22, f"{i + 1}. {room}/", fontsize=11, weight="bold", va="center")
        ax.text(0.45, y1 - 0.48, os.path.basename(file), fontsize=10, va="center", family="monospace")
        box(ax, 3.75, y0, 14.7, y1, "#ffffff", edge=LINE.get(room, "#444444"))
        ax.text(3.9, y1 - 0.22, title, fontsize=11, weight="bold", va="center")
        for k, line in enumerate(lines):
            ax.text(3.9, y1 - 0.5 - 0.27 * k, line, fontsize=10, va="center", family="monospace")
        if i + 1 < len(RUN_FLOW):
            arrow(ax, (1.9, y0), (1.9, y0 - gap), lw=1.3, head=9)
        top = y0 - gap
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def main():
    rooms, links = draw_layers(os.path.join(HERE, "layers.png"))
    draw_run_flow(os.path.join(HERE, "run_flow.png"))
    for room in rooms:
        print(f"{room:12s} links {' '.join(links[room]) or '(the SDK only)'}")
    print("wrote", os.path.join(HERE, "layers.png"), "and", os.path.join(HERE, "run_flow.png"))


if __name__ == "__main__":
    main()
