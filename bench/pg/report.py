"""The table `make bench-pg` prints."""

from bench.pg.measure import Result

COLUMNS = [
    ("call", "<"),
    ("n", ">"),
    ("p50 ms", ">"),
    ("p95 ms", ">"),
    ("floor p50", ">"),
    ("ratio p50", ">"),
    ("ratio p95", ">"),
    ("queries", ">"),
    ("sql ms", ">"),
    ("target", "<"),
    ("met", "<"),
]


def _row(result: Result) -> list[str]:
    queries = "/".join(str(count) for count in result.queries) or "-"
    sql_ms = "-" if result.sql_ms is None else f"{result.sql_ms:.1f}"
    if result.error or not result.call_ms:
        return [result.label, "0", "-", "-", "-", "-", "-", queries, sql_ms, result.target.describe(), "ERROR"]
    return [
        result.label,
        str(len(result.call_ms)),
        f"{result.p50:.1f}",
        f"{result.p95:.1f}",
        f"{result.floor_p50:.1f}",
        f"{result.ratio_p50:.2f}",
        f"{result.ratio_p95:.2f}",
        queries,
        sql_ms,
        result.target.describe(),
        "yes" if result.met else "NO",
    ]


def table(results: list[Result]) -> str:
    rows = [[name for name, _ in COLUMNS], *(_row(result) for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for number, row in enumerate(rows):
        cells = [f"{cell:{align}{width}}" for cell, (_, align), width in zip(row, COLUMNS, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    errors = [f"  {result.label}: {result.error}" for result in results if result.error]
    if errors:
        lines += ["errors:", *errors]
    return "\n".join(lines)
