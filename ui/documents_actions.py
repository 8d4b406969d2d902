"""Adding and removing documents from the app: save uploads, ingest with a progress bar, report per file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.config import Settings
from core.errors import RagError
from ui.backend import Backend
from ui.notices import escape_markdown, show_error
from ui.uploads import check_upload_size, save_upload, upload_dir


@dataclass(frozen=True)
class FileOutcome:
    """One row of the per-file result table shown after an upload."""

    name: str
    status: str  # added | updated | unchanged | removed | failed | rejected
    chunks: int = 0
    message: str = ""

    def row(self) -> dict:
        """The table row: file, result, passages, message."""
        return {
            "file": self.name,
            "result": self.status,
            "passages": self.chunks,
            "message": self.message,
        }


def save_uploads(files, settings: Settings) -> tuple[list[Path], list[FileOutcome]]:
    """Save each uploaded file under <index>/uploads/; refused files become `rejected` outcomes."""
    saved, rejected = [], []
    folder = upload_dir(settings.index_dir)
    for upload in files:
        try:
            data = upload.getvalue()
            check_upload_size(upload.name, len(data), settings.max_file_mb)
            saved.append(save_upload(folder, upload.name, data))
        except RagError as err:
            rejected.append(FileOutcome(upload.name, "rejected", message=str(err)))
    return list(dict.fromkeys(saved)), rejected  # two uploads with one name: the last one wins


def report_outcomes(report) -> list[FileOutcome]:
    """Per-file outcomes from an IngestReport."""
    return [
        FileOutcome(Path(f.path).name, f.status, int(f.chunks or 0), str(f.error or "")) for f in report.files
    ]


def ingest_with_progress(backend: Backend, settings: Settings, paths: list[Path]) -> list[FileOutcome]:
    """Ingest `paths` inside an st.status box with a progress bar; library errors end up in the box."""
    with st.status(f"Adding {len(paths)} item(s) to the index…", expanded=True) as box:
        bar = st.progress(0.0, text="Loading the embedding model…")

        def on_progress(progress) -> None:  # ingest.pipeline.IngestProgress
            total = max(progress.files_total, 1)
            name = escape_markdown(Path(progress.current_path).name)  # the progress text is Markdown
            text = f"{progress.files_done}/{progress.files_total} files · {progress.chunks_done} passages · {name}"
            bar.progress(min(progress.files_done / total, 1.0), text=text)

        try:
            outcomes = report_outcomes(backend.ingest_paths(paths, settings, on_progress=on_progress))
        except RagError as err:
            box.update(label="Nothing was added", state="error")
            show_error(err)
            return [FileOutcome(Path(p).name, "failed", message=str(err)) for p in paths]
        bar.progress(1.0, text="Done")
        failed = sum(o.status == "failed" for o in outcomes)
        label = f"Indexed {len(outcomes) - failed} file(s)" + (f", {failed} failed" if failed else "")
        box.update(
            label=label, state="error" if failed and failed == len(outcomes) else "complete", expanded=False
        )
    return outcomes


def remove_documents(backend: Backend, settings: Settings, paths: list[str]) -> int:
    """Remove files from the index; copies the app stored under <index>/uploads/ are deleted too."""
    removed = int(backend.remove_paths(paths, settings))
    folder = upload_dir(settings.index_dir)
    for path in map(Path, paths):
        if path.parent == folder and path.is_file():  # only our own upload copies, never the user's files
            path.unlink()
    return removed
