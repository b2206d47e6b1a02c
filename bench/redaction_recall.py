"""Print the free-text scrubber's recall per kind and its false positives, on two labelled corpora,
and the same for presidio-analyzer's pattern recognisers when presidio is importable.

    python bench/redaction_recall.py [--misses] [--held-out-misses] [--no-presidio] [--seed N]

Corpora (both synthetic and deterministic):

- old: exchange/testing/redaction_corpus.py, written alongside the scrubber (a regression floor);
  its leak probes are per-label regular expressions (see that module).
- labelled: exchange/testing/redaction_labelled.py, written independently of the scrubber's word
  lists, in two parts, "dev" (tune on it) and "held_out" (report it, do not tune word lists to it).
  An identifier counts as caught when (the rule, in that module's docstring and ``leaked``):
  for a name, none of its words of two letters or more survives as a whole word (beyond the
  occurrences outside the name); for any other kind, the label's alphanumeric characters (a house
  number with the word next to it: "12mill", "flat3") do not occur as a contiguous run in the
  output's alphanumeric characters (case-folded). So a postcode kept as its sector is caught.

Figures per kind: recall (caught / labelled), precision (of the replacements made, the share that
hit a labelled identifier of that kind) and the clean sentences changed. The scrubber reports
only counts per kind, so its precision is by count: in each sentence, replacements of a kind beyond
the labelled identifiers of that kind are false positives. Presidio reports spans: a detection is
a true positive when it overlaps a labelled span of its kind. Presidio has no pattern recogniser
for names or house numbers (its names come from a spaCy model, not installed) and its date
recogniser finds every date, not dates of birth.

The ratio printed at the end is presidio's time over the scrubber's on the same sentences, and
the scrubber's mean recall over presidio's on the kinds both cover. A benchmark: it never fails
on its numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.core.redact import scrub  # noqa: E402
from exchange.testing import redaction_labelled as labelled  # noqa: E402
from exchange.testing.redaction_corpus import SEED, build_corpus, format_table, measure  # noqa: E402

# presidio entity -> corpus kind
PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "UK_NHS": "nhs_number",
    "UK_NINO": "ni_number",
    "UK_POSTCODE": "postcode",
    "UK_VEHICLE_REGISTRATION": "vehicle_registration",
    "DATE_TIME": "date_of_birth",
}


# --------------------------------------------------------------------------------------------
# presidio (optional): its pattern recognisers, run directly, no NLP engine


def presidio_detector() -> Callable[[str], list[tuple[str, int, int]]] | None:
    try:
        from presidio_analyzer.predefined_recognizers import (
            DateRecognizer,
            EmailRecognizer,
            NhsRecognizer,
            PhoneRecognizer,
            UkNinoRecognizer,
            UkPostcodeRecognizer,
            UkVehicleRegistrationRecognizer,
        )
    except Exception:  # noqa: BLE001 - not installed, or a broken install: skip the comparison
        return None
    try:  # the e-mail recogniser checks domains with tldextract: use its bundled list, no network
        import tldextract

        tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # type: ignore[assignment]
    except Exception:  # noqa: BLE001
        pass
    recognisers = [EmailRecognizer(), PhoneRecognizer(), NhsRecognizer(), UkNinoRecognizer(),
                   UkPostcodeRecognizer(), UkVehicleRegistrationRecognizer(), DateRecognizer()]

    def detect(text: str) -> list[tuple[str, int, int]]:
        found: list[tuple[str, int, int]] = []
        for rec in recognisers:
            for r in rec.analyze(text, rec.supported_entities, None):
                if r.score > 0 and r.entity_type in PRESIDIO_KINDS:
                    found.append((PRESIDIO_KINDS[r.entity_type], r.start, r.end))
        return found

    return detect


def presidio_scrubber(detect: Callable[[str], list[tuple[str, int, int]]]) -> Callable[[str], str]:
    """Replace every detected span by <KIND> (overlapping spans merged)."""

    def run(text: str) -> str:
        spans = sorted(detect(text), key=lambda s: (s[1], -s[2]))
        out, pos = [], 0
        for kind, start, end in spans:
            if start < pos:
                if end > pos:
                    pos = end
                continue
            out.append(text[pos:start])
            out.append(f"<{kind.upper()}>")
            pos = end
        out.append(text[pos:])
        return "".join(out)

    return run


# --------------------------------------------------------------------------------------------
# precision


def scrubber_precision(corpus: list[labelled.Labelled]) -> dict[str, tuple[int, int]]:
    """kind -> (replacements, false positives), by count per sentence."""
    made = dict.fromkeys(labelled.KINDS, 0)
    false = dict.fromkeys(labelled.KINDS, 0)
    for sample in corpus:
        result = scrub(sample.text)
        for kind, n in result.redactions.items():
            if kind not in made:
                continue
            made[kind] += n
            false[kind] += max(0, n - sum(1 for s in sample.spans if s.kind == kind))
    return {k: (made[k], false[k]) for k in labelled.KINDS}


def presidio_precision(corpus: list[labelled.Labelled], detect: Callable[[str], list[tuple[str, int, int]]]
                       ) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """kind -> (detections, false positives) by span overlap; and kind -> clean sentences it fired on."""
    made = dict.fromkeys(labelled.KINDS, 0)
    false = dict.fromkeys(labelled.KINDS, 0)
    clean_hits = dict.fromkeys(labelled.KINDS, 0)
    for sample in corpus:
        fired: set[str] = set()
        for kind, start, end in detect(sample.text):
            made[kind] += 1
            if not any(s.kind == kind and s.start < end and start < s.end for s in sample.spans):
                false[kind] += 1
            fired.add(kind)
        if not sample.spans:
            for kind in fired:
                clean_hits[kind] += 1
    return {k: (made[k], false[k]) for k in labelled.KINDS}, clean_hits


def scrubber_clean_hits(corpus: list[labelled.Labelled]) -> dict[str, int]:
    hits = dict.fromkeys(labelled.KINDS, 0)
    for sample in corpus:
        if not sample.spans:
            for kind in scrub(sample.text).redactions:
                if kind in hits:
                    hits[kind] += 1
    return hits


# --------------------------------------------------------------------------------------------
# printing


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:5.3f}"


def labelled_table(title: str, results: dict[str, dict[str, Any]], precision: dict[str, tuple[int, int]],
                   clean_hits: dict[str, int], covered: set[str] | None = None) -> str:
    parts = list(results)
    head = f"{'kind':<22}{'labelled':>9}" + "".join(f"{'recall ' + p:>17}" for p in parts)
    head += f"{'precision':>11}{'clean FP':>10}"
    lines = [title, head]
    for kind in labelled.KINDS:
        n = results["all"]["labelled"][kind]
        row = f"{kind:<22}{n:>9}"
        for p in parts:
            rec = results[p]["recall"][kind] if covered is None or kind in covered else None
            row += f"{_fmt(rec):>17}"
        made, false = precision[kind]
        prec = (made - false) / made if made else None
        row += f"{_fmt(prec) if covered is None or kind in covered else '    -':>11}"
        row += f"{clean_hits.get(kind, 0):>10}"
        lines.append(row)
    for p in parts:
        r = results[p]
        lines.append(f"clean sentences changed ({p}): {r['clean_changed']}/{r['clean_sentences']}")
    return "\n".join(lines)


def forms_table(result: dict[str, Any]) -> str:
    lines = ["by form (caught/total), kinds with a miss:"]
    for kind in labelled.KINDS:
        forms = result["forms"][kind]
        if all(c == t for c, t in forms.values()):
            continue
        cells = ", ".join(f"{f} {c}/{t}" for f, (c, t) in sorted(forms.items()) if c != t)
        lines.append(f"  {kind}: {cells}")
    return "\n".join(lines)


def run_labelled(fn: Callable[[str], object], corpus: list[labelled.Labelled]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    results = {"all": labelled.evaluate(fn, corpus)}
    elapsed = time.perf_counter() - started
    for part in labelled.PARTS:
        results[part] = labelled.evaluate(fn, labelled.select(corpus, part))
    return results, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help="old corpus seed (default: the test seed)")
    parser.add_argument("--misses", action="store_true",
                        help="list the missed identifiers and changed clean sentences (old corpus, labelled dev)")
    parser.add_argument("--held-out-misses", action="store_true",
                        help="also list them for the held-out part (not for tuning word lists)")
    parser.add_argument("--no-presidio", action="store_true", help="skip the presidio comparison")
    args = parser.parse_args(argv)

    detect = None if args.no_presidio else presidio_detector()

    # ---- the old corpus
    corpus = build_corpus(args.seed)
    started = time.perf_counter()
    result = measure(scrub, corpus)
    elapsed_old = time.perf_counter() - started
    print(f"== old corpus (exchange/testing/redaction_corpus.py), seed {args.seed}: {len(corpus)} sentences")
    print("-- scrubber")
    print(format_table(result))
    print(f"time: {elapsed_old:.2f} s ({len(corpus) / elapsed_old:.0f} sentences/s)")
    if detect is not None:
        presidio_old = measure(presidio_scrubber(detect), corpus)
        print("-- presidio pattern recognisers (no names, no house numbers: '-' rows are not covered)")
        for kind in presidio_old["recall"]:
            covered = kind in PRESIDIO_KINDS.values()
            print(f"  {kind:<22}{_fmt(presidio_old['recall'][kind] if covered else None)}")
        print(f"  clean sentences altered: {presidio_old['clean_altered']}/{presidio_old['clean_sentences']}")
    if args.misses:
        print("\nmissed (old corpus):")
        for kind, form, value, output in result["missed_examples"]:
            print(f"  [{kind}/{form}] {value!r}\n      -> {output}")
        print("\nclean sentences altered (old corpus):")
        for before, after in result["altered_examples"]:
            print(f"  {before}\n      -> {after}")

    # ---- the labelled corpus
    corpus_l = list(labelled.build())
    n_clean = sum(1 for s in corpus_l if not s.spans)
    print(f"\n== labelled corpus (exchange/testing/redaction_labelled.py): {len(corpus_l)} sentences, "
          f"{n_clean} clean; parts: "
          + ", ".join(f"{p} {len(labelled.select(corpus_l, p))}" for p in labelled.PARTS))
    results, elapsed = run_labelled(scrub, corpus_l)
    print(labelled_table("-- scrubber", results, scrubber_precision(corpus_l), scrubber_clean_hits(corpus_l)))
    print(forms_table(results["all"]))
    print(f"time: {elapsed:.2f} s ({len(corpus_l) / elapsed:.0f} sentences/s, "
          f"{1000 * elapsed / len(corpus_l):.2f} ms per sentence)")

    if detect is not None:
        p_results, p_elapsed = run_labelled(presidio_scrubber(detect), corpus_l)
        p_precision, p_clean = presidio_precision(corpus_l, detect)
        covered = set(PRESIDIO_KINDS.values())
        print(labelled_table("-- presidio pattern recognisers ('-': no recogniser for the kind; date_of_birth is "
                             "its DateRecognizer, which finds every date)", p_results, p_precision, p_clean, covered))
        print(f"time: {p_elapsed:.2f} s ({len(corpus_l) / p_elapsed:.0f} sentences/s)")
        both = sorted(covered)
        ours = sum(results["all"]["recall"][k] for k in both) / len(both)
        theirs = sum(p_results["all"]["recall"][k] for k in both) / len(both)
        print("-- ratio")
        print(f"time presidio / scrubber: {p_elapsed / elapsed:.2f}")
        print(f"mean recall on the {len(both)} kinds both cover, scrubber / presidio: "
              f"{ours:.3f} / {theirs:.3f} = {ours / theirs if theirs else float('inf'):.2f}")
        print("better per kind (recall, then clean FP): " + ", ".join(
            f"{k}: " + ("scrubber" if (results["all"]["recall"][k], -scrubber_clean_hits(corpus_l)[k])
                        >= (p_results["all"]["recall"][k], -p_clean[k]) else "presidio")
            for k in both))
    else:
        print("\npresidio-analyzer not importable (pip install presidio-analyzer): comparison skipped")

    if args.misses or args.held_out_misses:
        parts = ["dev"] + (["held_out"] if args.held_out_misses else [])
        print("\nmissed (labelled corpus, " + ", ".join(parts) + "):")
        for part, kind, form, value, output in results["all"]["missed_examples"]:
            if part in parts:
                print(f"  [{part} {kind}/{form}] {value!r}\n      -> {output}")
        print("\nclean sentences changed (labelled corpus, " + ", ".join(parts) + "):")
        for part, before, after in results["all"]["changed_examples"]:
            if part in parts:
                print(f"  [{part}] {before}\n      -> {after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
