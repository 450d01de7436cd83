"""Dataset import: parse and validate a whole dataset first, then write it in one transaction.

Formats: `recbole` (RecBole atomic files), `movielens` (GroupLens raw ML-100K), `csv` (CSV/JSON Lines).
The management command `import_dataset` and the admin's upload view both call these functions.
"""

import tempfile
from pathlib import Path

from . import movielens, recbole, tabular
from .records import DatasetError
from .writer import ImportSummary, dataset_write

__all__ = ["FORMATS", "DatasetError", "ImportSummary", "dataset_import", "upload_import"]

FORMATS = {"recbole": recbole.read_dataset, "movielens": movielens.read_dataset, "csv": tabular.read_dataset}
UPLOAD_SUFFIXES = (".csv", ".jsonl")


def dataset_import(*, path, fmt: str, progress: bool = False) -> ImportSummary:
    """Import the dataset in directory `path` (format recbole, movielens or csv); DatasetError if invalid."""
    directory = Path(path)
    if fmt not in FORMATS:
        raise DatasetError(str(path), None, f"unknown format '{fmt}' (expected {', '.join(FORMATS)})")
    if not directory.is_dir():
        raise DatasetError(str(path), None, "not a directory")
    dataset = FORMATS[fmt](path=directory)
    return dataset_write(dataset=dataset, progress=progress)


def upload_import(*, uploaded, kind: str) -> ImportSummary:
    """Import one uploaded CSV or JSONL file of `kind` (items, users or interactions) with the csv importer."""
    suffix = Path(uploaded.name).suffix.lower()
    if kind not in tabular.KINDS:
        raise DatasetError(uploaded.name, None, f"unknown kind '{kind}' (expected {', '.join(tabular.KINDS)})")
    if suffix not in UPLOAD_SUFFIXES:
        raise DatasetError(uploaded.name, None, "expected a .csv or .jsonl file")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{kind}{suffix}"
        with target.open("wb") as handle:
            for chunk in uploaded.chunks():
                handle.write(chunk)
        dataset = tabular.read_files(files={kind: target}, label=uploaded.name)
    return dataset_write(dataset=dataset)
