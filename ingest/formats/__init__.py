"""One reader per file format; `ingest.loaders` picks the reader by suffix and applies the common checks."""
