"""Datasets from written clips: QC, GATA / SynAPT layouts, WebDataset shards + Parquet tables, QA reports,
downloads."""
