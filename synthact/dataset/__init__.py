"""Post-processing: QC filters, GATA / SynAPT layouts, WebDataset + Parquet shards, QA reports."""
