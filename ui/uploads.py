"""Uploaded files for the app: the rules live in ingest.uploads, shared with the HTTP server."""

from ingest.uploads import (  # noqa: F401  (re-exported for the app)
    MAX_NAME_CHARS,
    UPLOAD_DIRNAME,
    UPLOAD_TYPES,
    check_upload_size,
    safe_upload_name,
    save_upload,
    upload_dir,
)
