"""Sightline analytics: ClickHouse schema loader, dashboard queries, HTML report, test data."""
