"""Print the free-text scrubber's recall per kind and its false positives on the labelled corpus.

    python bench/redaction_recall.py [--misses] [--seed N]

The corpus (tests/redaction_corpus.py) is synthetic and deterministic: police and council style
sentences with identifiers inserted at known places, plus clean sentences with none.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.core.redact import scrub  # noqa: E402
from exchange.testing.redaction_corpus import SEED, build_corpus, format_table, measure  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed (default: the test seed)")
    parser.add_argument("--misses", action="store_true",
                        help="also list the missed identifiers and altered clean sentences")
    args = parser.parse_args(argv)

    corpus = build_corpus(args.seed)
    started = time.perf_counter()
    result = measure(scrub, corpus)
    elapsed = time.perf_counter() - started

    print(f"corpus seed {args.seed}: {len(corpus)} sentences")
    print(format_table(result))
    print(f"time: {elapsed:.2f} s ({len(corpus) / elapsed:.0f} sentences/s)")
    if args.misses:
        print("\nmissed:")
        for kind, form, value, output in result["missed_examples"]:
            print(f"  [{kind}/{form}] {value!r}\n      -> {output}")
        print("\nclean sentences altered:")
        for before, after in result["altered_examples"]:
            print(f"  {before}\n      -> {after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
