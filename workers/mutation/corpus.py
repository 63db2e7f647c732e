"""The curated corpus: hand-written realistic student bugs, ``mutants/<module_id>.yaml``.

The format is documented in ``mutants/README.md``.  Each entry becomes a :class:`Mutant`
like the generated ones; a malformed entry is a ConfigError naming file, line and field.
"""

from pathlib import Path
from typing import Annotated

from pydantic import Field, RootModel, model_validator

from autograder.yaml_files import ConfigError, ConfigModel, read
from workers.mutation.operators import Mutant, solution_ranges

CORPUS_DIR = Path(__file__).resolve().parents[2] / "mutants"
OneLine = Annotated[str, Field(min_length=1, pattern=r"^[^\n]+$")]


class CuratedEntry(ConfigModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
    description: OneLine
    file: OneLine
    find: Annotated[str, Field(min_length=1)]
    replace: str

    @model_validator(mode="after")
    def _changes_something(self):
        if self.find == self.replace:
            raise ValueError("find and replace are the same: the entry changes nothing")
        return self


class Corpus(RootModel[list[CuratedEntry]]):
    @model_validator(mode="after")
    def _ids_unique(self):
        ids = [entry.id for entry in self.root]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"ids must be unique in the file; repeated: {', '.join(repeated)}")
        return self


def corpus_path(module_id, corpus_dir=CORPUS_DIR):
    return Path(corpus_dir) / f"{module_id}.yaml"


def load_corpus(module_id, module_files, read_text, corpus_dir=CORPUS_DIR):
    """The curated mutants of ``module_id`` (``[]`` when it has no corpus file).

    ``module_files``: the module's package paths; ``read_text(path)``: the reference's text.
    """
    path = corpus_path(module_id, corpus_dir)
    if not path.is_file():
        return []
    document = read(path)
    if document.data is None:
        return []
    entries = document.validate(Corpus).root
    mutants, errors = [], []
    for n, entry in enumerate(entries):
        if entry.file not in module_files:
            errors.append(document.error((n, "file"), f"{entry.file} is not a file of "
                                         f"{module_id} ({', '.join(module_files)})"))
            continue
        text = read_text(entry.file)
        where = _places(text, entry.find)
        if len(where) != 1:
            errors.append(document.error((n, "find"), f"occurs {len(where)} times in "
                                         f"{entry.file}; it must occur exactly once"))
            continue
        line = text.count("\n", 0, where[0]) + 1
        if not any(first <= line <= last for first, last in solution_ranges(text)):
            errors.append(document.error((n, "find"), f"{entry.file}:{line} is outside every "
                                         "solution block"))
            continue
        mutants.append(Mutant(entry.id, "curated", entry.file, line, entry.description,
                              text.replace(entry.find, entry.replace, 1)))
    if errors:
        raise ConfigError.collect(errors)
    return mutants


def _places(text, needle):
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found
