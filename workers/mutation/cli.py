"""``autograder suite mutate MODULE [--all] [--json]``: the kill rate of module suites.

Also ``python -m workers.mutation``.  Prints, per module, the kill rate over the generated
mutants that are not probably equivalent, the curated corpus's result, every survivor with
its diff, and the probably equivalent ones apart.  Exit status 1 when a curated mutant
survives (the corpus is the course's promise: every one of those bugs costs points).
"""

import json
import sys

import click

from harness.checkpoints.registry import modules_with_suites
from workers.mutation.operators import OPERATORS
from workers.mutation.run import EQUIVALENT, ERROR, SURVIVED, module_mutants, run_mutants, \
    summary


def _module_ids(module, every):
    known = modules_with_suites()
    if every:
        return known
    if module is None:
        raise click.UsageError("name a MODULE (e.g. 02_tensor) or give --all")
    matches = [m for m in known if module in (m, m.split("_", 1)[0], m.split("_", 1)[1])]
    if len(matches) != 1:
        raise click.UsageError(f"unknown module {module!r}; modules with a suite: "
                               f"{', '.join(known)}")
    return matches


def _table(rows):
    lines = [f"{'module':<16} {'generated':>9} {'killed':>6} {'equiv':>5} {'rate':>7}"
             f" {'curated':>7} {'killed':>6}"]
    for module_id, s in rows:
        lines.append(f"{module_id:<16} {s['generated']:>9} {s['generated_killed']:>6} "
                     f"{s['equivalent']:>5} {s['kill_rate']:>7.1%} {s['curated']:>7} "
                     f"{s['curated_killed']:>6}")
    return "\n".join(lines)


def _listing(title, results):
    if not results:
        return ""
    parts = [f"\n{title} ({len(results)}):"]
    for r in results:
        m = r.mutant
        parts.append(f"- {m.id}: {m.description}" + (f"  [{r.detail}]" if r.detail else ""))
        parts.append("  " + r.diff.rstrip("\n").replace("\n", "\n  "))
    return "\n".join(parts)


@click.command("mutate")
@click.argument("module", required=False)
@click.option("--all", "every", is_flag=True, help="Every module that has a suite.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--backend", type=click.Choice(["local", "docker"]), default="local",
              show_default=True, help="The runner backend the graders use.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Mutants run at once (default: the number of cores).")
@click.option("--generated/--no-generated", default=True, help="Run the generated mutants.")
@click.option("--curated/--no-curated", default=True,
              help="Run the curated corpus (mutants/<module>.yaml).")
@click.option("--operator", "operators", multiple=True, type=click.Choice(OPERATORS),
              help="Only these generated operators (repeatable; default: all).")
def mutate(module, every, as_json, backend, jobs, generated, curated, operators):
    """Plant bugs in the reference's solution blocks and report which the suite misses."""
    report, rows = [], []
    for module_id in _module_ids(module, every):
        mutants = module_mutants(module_id, generated=generated, curated=curated,
                                 operators=operators or OPERATORS)
        with click.progressbar(length=len(mutants), label=module_id, file=sys.stderr,
                               show_pos=True) as bar:
            results = run_mutants(module_id, mutants, jobs=jobs, backend_name=backend,
                                  on_result=lambda *_: bar.update(1))
        counts = summary(results)
        rows.append((module_id, counts))
        report.append({"module": module_id, **counts,
                       "mutants": [r.as_dict() for r in results]})
        if not as_json:
            click.echo(_listing(f"{module_id}: survivors",
                                [r for r in results if r.status in (SURVIVED, ERROR)]))
            click.echo(_listing(f"{module_id}: probably equivalent (not counted)",
                                [r for r in results if r.status == EQUIVALENT]))
    if as_json:
        click.echo(json.dumps({"modules": report}, indent=1))
    else:
        click.echo("\n" + _table(rows))
    if any(s["curated_killed"] < s["curated"] for _, s in rows):
        sys.exit(1)


def main():
    mutate(prog_name="python -m workers.mutation")
