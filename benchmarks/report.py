"""The results as Markdown: the machine line, the table, the notes; and the README's copy of it."""
from __future__ import annotations

from pathlib import Path

from benchmarks.measure import Row

START, END = "<!-- benchmark-results:start -->", "<!-- benchmark-results:end -->"
HEADER = ("what", "compared with", "vaesae", "baseline", "ratio", "target", "status")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        cells = (row.what, row.compared_with, row.vaesae, row.baseline, ratio, str(row.target), row.status)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def document(rows: list[Row], machine: str, run: str) -> str:
    """The full results text: what ran where, the table, and any row notes."""
    notes = [f"- {row.what} vs {row.compared_with}: {row.note}" for row in rows if row.note]
    parts = [f"Machine: {machine}", f"Run: {run}", table(rows)]
    if notes:
        parts.append("Notes:\n\n" + "\n".join(notes))
    return "\n\n".join(parts) + "\n"


def update_readme(readme: Path, text: str) -> None:
    """Replace what stands between the result markers in ``readme`` with ``text``."""
    content = readme.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{readme}: no {START} ... {END} block to update")
    head, rest = content.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{START}\n{text}{END}{tail}")
