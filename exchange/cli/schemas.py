"""exchange schemas ..."""

from __future__ import annotations

import click

from exchange.cli._common import ExchangeGroup, emit


@click.group("schemas", cls=ExchangeGroup)
def command() -> None:
    """The dataset schemas: what each agency supplies and what leaves the sanitiser."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def list_(as_json: bool) -> None:
    """One line per dataset: id, guidance section, sharing kind, fields in and out."""
    from exchange.core.schemas import catalogue

    rows = [{"id": d.id, "section": d.guidance_section, "sharing": d.sharing, "title": d.title,
             "fields": len(d.fields), "fields_out": sum(f.leaves for f in d.fields)} for d in catalogue()]
    text = "\n".join(f"{r['id']:<24} {r['section']:<7} {r['sharing']:<15} "
                     f"{r['fields']:>3} in {r['fields_out']:>3} out  {r['title']}"
                     for r in rows)
    emit(rows, as_json, text)


@command.command("show")
@click.argument("dataset_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def show(dataset_id: str, as_json: bool) -> None:
    """Every field of DATASET_ID: its identifier kind and what the sanitiser does with it."""
    from exchange.core.schemas import catalogue

    dataset = catalogue()[dataset_id]
    rows = [{"field": f.name, "identifier": f.identifier, "rule": f.rule,
             "leaves": "personal: released whole" if dataset.personal else f.describe()} for f in dataset.fields]
    header = (f"{dataset.id}: {dataset.title} (guidance {dataset.guidance_section}, {dataset.sharing})\n"
              f"{dataset.doc}\n\n{'field':<28} {'identifier':<10} {'rule':<13} leaves the sanitiser as")
    text = header + "\n" + "\n".join(f"{r['field']:<28} {r['identifier']:<10} {r['rule']:<13} {r['leaves']}"
                                     for r in rows)
    emit({"dataset": dataset.id, "sharing": dataset.sharing, "fields": rows}, as_json, text)
