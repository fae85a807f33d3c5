"""``python -m bench``: see ``python -m bench --help`` and docs/benchmarks.md."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from bench import options as cli
from bench import report, runner, wrk


def main(argv: list[str] | None = None) -> int:
    options = cli.parse(argv)
    options = replace(options, wrk=wrk.ensure_wrk())
    print(f"load average before the run: {report.load_average()} (on {os.cpu_count()} cores)", flush=True)
    run = runner.execute(options, log=lambda line: print(line, flush=True))
    text = report.markdown(run)
    print()
    print(text)
    if options.markdown:
        Path(options.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
