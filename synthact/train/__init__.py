"""Contrastive trainer over packed shards, and evaluation."""
