"""Fuzz the envelope decoder and the CSV ingest on demand, with many more inputs than CI runs.

    python bench/fuzz.py --examples 100000            # every target, 100,000 inputs each
    python bench/fuzz.py --examples 20000 --targets ingest --jobs 1
    python bench/fuzz.py --hypothesis --examples 5000 # the pytest properties, FUZZ_EXAMPLES=5000

The checks are the properties of tests/test_fuzz.py (check_envelope, check_grant,
check_resigned_grant, check_ingest: only EnvelopeError / a ConfigError naming the file, reasons
for every rejected row, row counts, no forgery, no shadowed key). This driver draws inputs with
`random` from the same mutation and CSV generators, which is far faster than Hypothesis' search
and does not stop at the first failure: it prints, per target, how many inputs were tried, how
they were refused (by reason code or reason), and every distinct failure, each with a reproducer
written to --out.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.testing import fuzz as fz  # noqa: E402  (after the path is set)


def _random_bytes(rng: random.Random) -> bytes:
    size = rng.choice([rng.randint(0, 16), rng.randint(0, 256), rng.randint(0, 2048)])
    if rng.random() < 0.3:  # bytes a CSV or Avro parser reacts to
        alphabet = b',"\r\n\x00\x01\x02\x7f\x80\xc3\xa3\xef\xbb\xbf\xff a1/:'
        return bytes(rng.choice(alphabet) for _ in range(size))
    return rng.randbytes(size)


def _random_text(rng: random.Random) -> bytes:
    size = rng.choice([rng.randint(0, 16), rng.randint(0, 256), rng.randint(0, 2048)])
    ranges = [(32, 126), (0, 31), (0x80, 0x2FF), (0x2000, 0x206F), (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
    chars = []
    for _ in range(size):
        low, high = rng.choice(ranges) if rng.random() < 0.4 else ranges[0]
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars).encode()


def _mutations(rng: random.Random) -> list[tuple]:
    return [fz.random_mutation(rng) for _ in range(rng.randint(1, 4))]


def _envelope_arbitrary(rng):
    data = _random_bytes(rng)
    fz.check_envelope(data, "envelope: arbitrary bytes")
    fz.check_grant(data, "grant: arbitrary bytes")
    return data


def _envelope_mutated(rng):
    world = fz.envelope_world()
    data = fz.mutate(rng.choice(world.envelopes), _mutations(rng), world.corpus)
    fz.check_envelope(data, "envelope: mutated envelopes")
    fz.check_grant(data, "grant: mutated envelopes")
    return data


def _grant_mutated(rng):
    world = fz.envelope_world()
    data = fz.mutate(rng.choice(world.grants), _mutations(rng), world.corpus)
    fz.check_grant(data, "grant: mutated grants")
    fz.check_envelope(data, "envelope: mutated grants")
    return data


def _envelope_resigned(rng):
    world = fz.envelope_world()
    edits = [fz.random_envelope_edit(rng) for _ in range(rng.randint(1, 4))]
    data = fz.resigned_envelope(world, rng.randrange(1001), edits, rng.choice(["police", "fire", "stranger"]))
    fz.check_envelope(data, "envelope: re-signed mutations")
    return data


def _grant_resigned(rng):
    edits = [fz.random_grant_edit(rng) for _ in range(rng.randint(1, 4))]
    which, signer = rng.randrange(1001), rng.choice(["police", "fire", "stranger"])
    data = fz.resigned_grant(fz.envelope_world(), which, edits, signer)
    fz.check_resigned_grant(data, signer)
    return data


def _ingest(name, make):
    def run(rng):
        data = make(rng)
        fz.check_ingest(data, name)
        return data
    return run


TARGETS = {
    "envelope: arbitrary bytes": _envelope_arbitrary,
    "envelope: mutated envelopes": _envelope_mutated,
    "grant: mutated grants": _grant_mutated,
    "envelope: re-signed mutations": _envelope_resigned,
    "grant: re-signed mutations": _grant_resigned,
    "ingest: arbitrary bytes": _ingest("ingest: arbitrary bytes", _random_bytes),
    "ingest: arbitrary text": _ingest("ingest: arbitrary text", _random_text),
    "ingest: CSV-shaped text": _ingest("ingest: CSV-shaped text", fz.random_csv_document),
    "ingest: byte-mutated exports": _ingest("ingest: byte-mutated exports", lambda rng: fz.mutate(
        rng.choice(fz.ingest_world().bases), _mutations(rng), fz.ingest_world().bases)),
    "ingest: cell-mutated exports": _ingest("ingest: cell-mutated exports", lambda rng: fz.edit_cells(
        rng.choice(fz.ingest_world().bases), [fz.random_cell_edit(rng) for _ in range(rng.randint(1, 6))])),
}


def _signature(exc: BaseException) -> str:
    """Type, where in the project it surfaced (and where it was raised), and the message with its
    particulars blanked: one line per distinct fault, not per input."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(ROOT)) and not f.filename.endswith("bench/fuzz.py")]
    places = [f"{Path(f.filename).name}:{f.lineno}" for f in ([ours[-1]] if ours else []) + frames[-1:]]
    message = exc.reason if isinstance(exc, UnicodeDecodeError) else (str(exc).splitlines() or [""])[0]
    first_line = fz.reason_category(re.sub(r"0x[0-9a-fA-F]+", "N", message))[:100]
    return f"{type(exc).__name__} at {' <- '.join(dict.fromkeys(reversed(places)))}: {first_line}"


def run_target(name: str, examples: int, seed: int, max_seconds: float | None, out: str) -> dict:
    """Run one target in this process; return its counts and failures (picklable)."""
    fz.TALLY.clear()  # a worker process may run several targets
    rng = random.Random(f"{seed}:{name}")
    make = TARGETS[name]
    failures: Counter = Counter()
    reproducers: dict[str, str] = {}
    started = time.monotonic()
    tried = 0
    for _ in range(examples):
        tried += 1
        state = rng.getstate()
        try:
            make(rng)
        except Exception as exc:  # a property violated: record it, keep going
            signature = _signature(exc)
            failures[signature] += 1
            if signature not in reproducers:
                replay = random.Random()
                replay.setstate(state)
                data = _regenerate(name, replay)
                path = Path(out) / f"{name.replace(':', '').replace(' ', '-')}-{len(reproducers) + 1}.bin"
                path.write_bytes(data)
                reproducers[signature] = str(path)
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
    tallies = {label: dict(counts) for label, counts in fz.TALLY.items()}
    return {"name": name, "tried": tried, "seconds": time.monotonic() - started, "failures": dict(failures),
            "reproducers": reproducers, "tallies": tallies}


def _regenerate(name: str, rng: random.Random) -> bytes:
    """The input a target drew from this random state, without checking it."""
    names = ("check_envelope", "check_grant", "check_ingest", "check_resigned_grant")
    saved = {n: getattr(fz, n) for n in names}
    for n in names:
        setattr(fz, n, lambda *args, **kwargs: None)
    try:
        return TARGETS[name](rng)
    finally:
        for n, check in saved.items():
            setattr(fz, n, check)


def _print_report(results: list[dict], elapsed: float) -> int:
    print(f"\n{'target':34} {'inputs':>9} {'seconds':>8} {'per s':>7} {'failures':>9}")
    for r in results:
        print(f"{r['name']:34} {r['tried']:>9,} {r['seconds']:>8.1f} {r['tried'] / max(r['seconds'], 1e-9):>7,.0f} "
              f"{sum(r['failures'].values()):>9,}")
    print(f"total {sum(r['tried'] for r in results):,} inputs in {elapsed:.1f} s")
    for r in results:
        for label, counts in sorted(r["tallies"].items()):
            counts = Counter(counts)
            inputs = counts.pop("inputs", 0)
            print(f"\n{label}: {inputs:,} inputs")
            reasons = [(k, v) for k, v in counts.items() if k.startswith("reason: ")]
            for key, value in sorted(((k, v) for k, v in counts.items() if not k.startswith("reason: ")),
                                     key=lambda kv: -kv[1]):
                print(f"  {value:>10,}  {key}")
            if reasons:
                print(f"  rows rejected, by reason ({len(reasons)} kinds; the 25 most frequent):")
                for key, value in sorted(reasons, key=lambda kv: -kv[1])[:25]:
                    print(f"  {value:>10,}    {key.removeprefix('reason: ')}")
    failed = [(r["name"], sig, n, r["reproducers"].get(sig)) for r in results for sig, n in r["failures"].items()]
    if failed:
        print("\nFAILURES (property violated):")
        shown: Counter = Counter()
        for name, signature, count, path in sorted(failed, key=lambda f: (f[0], -f[2])):
            shown[name] += 1
            if shown[name] <= 12:
                print(f"  {name}: {count:,} x {signature}\n      reproducer: {path}")
        for name, count in shown.items():
            if count > 12:
                print(f"  {name}: {count - 12} more distinct failure(s) not shown")
        return 1
    print("\nno property violated")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--targets", default="", help="only targets whose name contains this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop each target after this long")
    parser.add_argument("--out", default=None, help="where reproducers are written (default: a temporary directory)")
    parser.add_argument("--hypothesis", action="store_true",
                        help="run the pytest properties with FUZZ_EXAMPLES=--examples instead")
    args = parser.parse_args(argv)

    if args.hypothesis:
        os.environ["FUZZ_EXAMPLES"] = str(args.examples)
        import importlib

        import pytest

        importlib.reload(fz)  # its settings read FUZZ_EXAMPLES at import
        started = time.monotonic()
        words = re.findall(r"[A-Za-z0-9_]+", args.targets)
        selection = ["-k", " and ".join(words)] if words else []
        status = pytest.main([str(ROOT / "tests" / "test_fuzz.py"), "-q", "-p", "no:cacheprovider", *selection])
        module = sys.modules.get("tests.test_fuzz", fz)
        results = [{"name": label, "tried": counts.get("inputs", 0), "seconds": time.monotonic() - started,
                    "failures": {}, "reproducers": {}, "tallies": {label: dict(counts)}}
                   for label, counts in sorted(module.TALLY.items())]
        _print_report(results, time.monotonic() - started)
        return int(status)

    out = args.out or tempfile.mkdtemp(prefix="exchange-fuzz-reproducers-")
    Path(out).mkdir(parents=True, exist_ok=True)
    names = [n for n in TARGETS if args.targets in n]
    started = time.monotonic()
    print(f"fuzzing {len(names)} target(s), {args.examples:,} inputs each, {args.jobs} process(es); "
          f"reproducers -> {out}", flush=True)
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_target, n, args.examples, args.seed, args.max_seconds, out) for n in names]
            results = [f.result() for f in futures]
    else:
        results = []
        for name in names:
            results.append(run_target(name, args.examples, args.seed, args.max_seconds, out))
    return _print_report(results, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
