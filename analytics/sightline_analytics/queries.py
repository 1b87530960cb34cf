"""The dashboard queries of analytics/queries/, run with their parameters."""

from dataclasses import dataclass
from datetime import date

from .paths import QUERIES_DIR


@dataclass
class Window:
    site_key: str
    date_from: date
    date_to: date
    # Optional filters of the queries that have these columns; "" = all.
    college: str = ""
    cohort: str = ""
    campaign: str = ""

    def params(self) -> dict:
        return {"site_key": self.site_key, "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "college": self.college, "cohort": self.cohort, "campaign": self.campaign}


def names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def question(name: str) -> str:
    """The business question in the file's leading comment (up to an empty comment line, after
    which come notes on how the query reads the tables)."""
    lines = []
    for line in (QUERIES_DIR / f"{name}.sql").read_text().splitlines():
        if not line.startswith("--") or not line.strip("- "):
            break
        lines.append(line.lstrip("- ").strip())
    text = " ".join(lines).replace("Business question: ", "")
    return text[:1].upper() + text[1:]


def run(engine, name: str, window: Window) -> list[dict]:
    return engine.rows((QUERIES_DIR / f"{name}.sql").read_text(), window.params())


def run_all(engine, window: Window) -> dict:
    return {name: run(engine, name, window) for name in names()}
