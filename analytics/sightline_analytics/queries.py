"""The dashboard queries of analytics/queries/, run with their parameters."""

from dataclasses import dataclass
from datetime import date

from .paths import QUERIES_DIR


@dataclass
class Window:
    site_key: str
    date_from: date
    date_to: date

    def params(self) -> dict:
        return {"site_key": self.site_key, "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}


def names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def question(name: str) -> str:
    """The business question in the file's leading comment."""
    lines = []
    for line in (QUERIES_DIR / f"{name}.sql").read_text().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.lstrip("- ").strip())
    text = " ".join(lines).replace("Business question: ", "")
    return text[:1].upper() + text[1:]


def run(engine, name: str, window: Window) -> list[dict]:
    return engine.rows((QUERIES_DIR / f"{name}.sql").read_text(), window.params())


def run_all(engine, window: Window) -> dict:
    return {name: run(engine, name, window) for name in names()}
