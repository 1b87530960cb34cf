"""The embedded ClickHouse engine (chdb) with Sightline's format schemas in reach."""

import json
import os
from pathlib import Path

from chdb import session

from .paths import PROTO_ROOT


class EngineError(RuntimeError):
    """A statement failed in the embedded ClickHouse."""


class Engine:
    """One chdb session on a database directory.

    chdb (clickhouse-local inside) resolves a relative format schema such as
    'sightline/v1/collected.proto:CollectedEvent' against the process's working directory and
    ignores a format_schema_path connection parameter, so the process works from proto/, the
    same tree a server gets under its format_schema_path. Imports between the .proto files
    resolve from there too.
    """

    def __init__(self, db_path: Path) -> None:
        os.chdir(PROTO_ROOT)
        db_path.mkdir(parents=True, exist_ok=True)
        self.session = session.Session(str(db_path))

    def execute(self, sql: str, params: dict | None = None) -> str:
        try:
            result = self.session.query(sql, "TabSeparated", params=params or {})
        except Exception as err:  # chdb raises its own ChdbError / RuntimeError
            raise EngineError(f"{err}\n--- statement ---\n{sql}") from err
        return str(result)

    def rows(self, sql: str, params: dict | None = None) -> list[dict]:
        try:
            result = self.session.query(sql, "JSONEachRow", params=params or {})
        except Exception as err:
            raise EngineError(f"{err}\n--- query ---\n{sql}") from err
        text = result.bytes().decode() if hasattr(result, "bytes") else str(result)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def scalar(self, sql: str, params: dict | None = None):
        rows = self.rows(sql, params)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise EngineError(f"expected one value, got {rows!r} from {sql}")
        return next(iter(rows[0].values()))

    def create_kafka_table(self, sql: str, name: str | None) -> None:
        """chdb 26.9 answers CREATE of a Kafka table with 'Shutdown was called' (LOGICAL_ERROR)
        although the table is created and its consumers run (system.kafka_consumers lists their
        assignments and materialized views receive the records). Accept exactly that, and only
        when the table is really there."""
        try:
            self.session.query(sql, "TabSeparated")
            return
        except Exception as err:
            if "Shutdown was called" not in str(err) or not name:
                raise EngineError(f"{err}\n--- statement ---\n{sql}") from err
        database, table = name.split(".", 1)
        found = self.scalar(
            "SELECT count() FROM system.tables WHERE database = {d:String} AND name = {t:String} AND engine = 'Kafka'",
            {"d": database, "t": table},
        )
        if int(found) != 1:
            raise EngineError(f"Kafka table {name} was not created")

    def close(self) -> None:
        self.session.close()
