#!/usr/bin/env python3
"""Flame graphs from `perf script` with the standard library only (Debian 12
packages no flamegraph.pl).

  perf script | flamegraph.py collapse > folded    # one "root;...;leaf COUNT" a line
  flamegraph.py svg [--title T] < folded > out.svg  # rectangles with <title> tooltips
  flamegraph.py top [N] < folded                    # frames by self time, as text
"""
import html
import re
import sys
from collections import Counter, defaultdict

# A frame line of perf script: "\t  7f12ab34 symbol+0x1f (/path/lib.so)".
FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.+?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$")


def collapse(lines):
    """perf script's samples (a header line, frames leaf first, a blank line) to folded counts."""
    folded = Counter()
    command, frames = None, []
    for line in list(lines) + [""]:
        if not line.strip():
            if command is not None:
                folded[";".join([command] + frames[::-1])] += 1
            command, frames = None, []
        elif not line[0].isspace():
            command = line.split()[0]
        else:
            match = FRAME.match(line.rstrip("\n"))
            if match:
                symbol = match.group(1)
                if symbol == "[unknown]" and not match.group(2).startswith("["):
                    symbol = "[" + match.group(2).rsplit("/", 1)[-1] + "]"  # name the library
                frames.append(symbol)
    return folded


def read_folded(lines):
    stacks = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack:
            stacks[stack] += int(count)
    return stacks


def build_tree(stacks):
    """Nested dicts: name -> [total, children]."""
    root = [0, {}]
    for stack, count in stacks.items():
        node = root
        node[0] += count
        for frame in stack.split(";"):
            node = node[1].setdefault(frame, [0, {}])
            node[0] += count
    return root


def svg(stacks, title, width=1600, row=16):
    root = build_tree(stacks)
    total = root[0] or 1
    rects = []

    def depth_of(node):
        return 1 + max((depth_of(child) for child in node[1].values()), default=0)

    height = (depth_of(root) + 2) * row

    def place(node, x, depth):
        for name, child in sorted(node[1].items()):
            w = child[0] / total * width
            if w >= 0.3:
                y = height - (depth + 1) * row
                hue = (hash(name) % 60) + 0  # reds to yellows, as flame graphs are drawn
                label = html.escape(name)
                tip = f"{label} ({child[0]} samples, {100 * child[0] / total:.2f} %)"
                text = html.escape(name[: max(0, int(w / 7))]) if w > 21 else ""
                rects.append(
                    f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" '
                    f'height="{row - 1}" fill="hsl({hue},90%,60%)"/>'
                    f'<text x="{x + 2:.1f}" y="{y + row - 4}">{text}</text></g>')
                place(child, x, depth + 1)
            x += w

    place(root, 0.0, 0)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="monospace" font-size="11">'
            f'<text x="4" y="14" font-size="14">{html.escape(title)} ({total} samples)</text>'
            + "".join(rects) + "</svg>\n")


def top(stacks, count):
    self_time = Counter()
    for stack, samples in stacks.items():
        self_time[stack.rsplit(";", 1)[-1]] += samples
    total = sum(self_time.values()) or 1
    for frame, samples in self_time.most_common(count):
        print(f"{100 * samples / total:6.2f} %  {samples:7d}  {frame}")


def main(argv):
    if len(argv) < 2 or argv[1] not in ("collapse", "svg", "top"):
        sys.exit(__doc__)
    if argv[1] == "collapse":
        for stack, count in sorted(collapse(sys.stdin).items()):
            print(f"{stack} {count}")
    elif argv[1] == "svg":
        title = argv[argv.index("--title") + 1] if "--title" in argv else "flame graph"
        sys.stdout.write(svg(read_folded(sys.stdin), title))
    else:
        top(read_folded(sys.stdin), int(argv[2]) if len(argv) > 2 else 30)


if __name__ == "__main__":
    main(sys.argv)
